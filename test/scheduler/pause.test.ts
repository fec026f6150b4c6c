import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { setPaused } from '../../src/control/toggle';
import { runCli } from '../cli';
import { startScratchRedis } from '../scratch-redis';
import { dueAfter, reconciled, SchedulerTest, sleep, startedRuns, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

const tick = (enabled?: boolean) => `schedules:
  tick:
    job: sleep
    every: 200ms
${enabled === undefined ? '' : `    enabled: ${enabled}\n`}`;

const count = async () => (await s.runs('tick')).length;

describe('pause and resume (real Redis and PostgreSQL)', () => {
  it('a paused schedule does not run, stays paused across a restart, and resumes without a burst', async () => {
    s = new SchedulerTest('pause');
    s.writeSchedules(tick());
    let running = await s.start();
    await waitFor(async () => (await count()) >= 2, 'two runs');

    const paused = await runCli(['pause', 'tick', '--note', 'db maintenance'], s.env);
    expect(paused).toMatchObject({ code: 0, stdout: 'paused tick (db maintenance)\n' });
    // The queue is paused in Redis: no run starts; the stop waits for the one that may be active.
    await s.stop(running);
    const atPause = await count();
    running = await s.start();
    // Proves a negative (a paused schedule runs nothing after a restart), so it takes a fixed time.
    await sleep(1_200);
    expect(await count()).toBe(atPause);
    const [view] = await s.schedules(running);
    expect(view).toMatchObject({
      paused: true,
      switch: { paused: true, note: 'db maintenance', by: expect.stringMatching(/^cli:/) },
    });
    const list = await runCli(['list'], s.env);
    expect(list.stdout).toMatch(
      /tick\s+sleep\s+every 200ms\s+paused\s+-\s+\S+ \S+\s+paused by cli:\S+ \S+ db maintenance/,
    );

    const resumedAt = Date.now();
    const threeRuns = startedRuns(running, 'tick', 3);
    // The operation `tickflow resume` uses, called in-process for a precise time.
    await setPaused(running.control, 'tick', { paused: false, by: 'test' });
    await threeRuns;
    const after = (await s.runs('tick')).slice(atPause);
    const since = Date.now() - resumedAt;
    // Only the one run held by the pause is overdue; the rest follow the cadence (no catch-up burst,
    // whose overdue runs would be queued at the resume, so among the first three to run).
    expect(after.filter((r) => r.scheduled_at.getTime() < resumedAt - 200)).toHaveLength(1);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after.length).toBeLessThanOrEqual(Math.ceil(since / 200) + 2);
  });

  it('the file `enabled:` applies when the schedule is created or the value changes, never over a person', async () => {
    s = new SchedulerTest('pause');
    s.writeSchedules(tick(false));
    let running = await s.start();
    // Proves a negative (created disabled, it never runs), so it takes a fixed time: three slots.
    await sleep(600);
    expect(await count()).toBe(0);

    expect((await runCli(['resume', 'tick'], s.env)).code).toBe(0);
    await waitFor(async () => (await count()) >= 1, 'a run after the resume');
    await s.stop(running);
    running = await s.start();
    // The file still says false, but it did not change: the person's resume stands.
    expect((await s.schedules(running))[0]?.paused).toBe(false);

    // A person pauses it; then the file's value changes (false → true), and that change applies.
    expect((await runCli(['pause', 'tick'], s.env)).code).toBe(0);
    expect((await s.schedules(running))[0]?.paused).toBe(true);
    s.writeSchedules(tick(true));
    await waitFor(async () => !(await s.schedules(running))[0]?.paused, 'the file resuming it');
    expect((await s.schedules(running))[0]?.switch.by).toBe('schedules.yaml');
    s.writeSchedules(tick(false));
    await waitFor(async () => (await s.schedules(running))[0]?.paused, 'the file pausing it');
  });

  it('a schedule removed from the file and added back keeps a person’s pause', async () => {
    s = new SchedulerTest('pause');
    s.writeSchedules(tick());
    const running = await s.start({ workers: false });
    expect((await runCli(['pause', 'tick', '-n', 'keep off'], s.env)).code).toBe(0);
    s.writeSchedules('schedules: {}\n');
    await waitFor(async () => (await s.schedules(running)).length === 0, 'the removal');
    s.writeSchedules(tick());
    const [back] = await waitFor(async () => {
      const views = await s.schedules(running);
      return views[0]?.scheduled && views;
    }, 'the schedule back');
    expect(back).toMatchObject({ paused: true, switch: { note: 'keep off' } });
    expect(await running.control.queues.get('tick').isPaused()).toBe(true);
  });

  it('a schedule BullMQ ran before schedule_state existed keeps its pause on upgrade', async () => {
    s = new SchedulerTest('pause');
    s.writeSchedules(tick());
    let running = await s.start({ workers: false });
    expect((await runCli(['pause', 'tick'], s.env)).code).toBe(0);
    await s.stop(running);
    // As a database migrated to 004 next to a Redis the older tickflow ran: no schedule_state rows.
    await s.db.query('delete from schedule_state');
    running = await s.start({ workers: false });
    const [view] = await s.schedules(running);
    expect(view).toMatchObject({ paused: true, switch: { by: 'redis (before schedule_state)' } });
    expect(await running.control.queues.get('tick').isPaused()).toBe(true);
  });

  it('pausing an unknown schedule fails and names the known ones', async () => {
    s = new SchedulerTest('pause');
    s.writeSchedules(tick());
    await s.start({ workers: false });
    const result = await runCli(['pause', 'nope'], s.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no schedule named "nope"; known schedules: tick');
  });
});

describe('PostgreSQL is the record of the switch (own Redis, flushed for real)', () => {
  it('pause → FLUSHALL → still paused and not running; the active one resumes within 5 s', async () => {
    const redis = await startScratchRedis();
    onTestFinished(() => redis.stop());
    s = new SchedulerTest('flush', { REDIS_URL: redis.url });
    s.writeSchedules(`${tick()}  tock:\n    job: sleep\n    every: 200ms\n`);
    const running = await s.start();
    await waitFor(async () => (await s.runs('tock')).length >= 2, 'tock running');
    expect((await runCli(['pause', 'tick', '-n', 'off before the flush'], s.env)).code).toBe(0);
    const pausedAgain = reconciled(running, 'tick', 'paused', { timeoutMs: 5_000 });
    const client = new Redis(redis.url);
    await client.flushall();
    const flushedAt = Date.now();
    await client.quit();
    const pausedRuns = await count();

    // The active schedule is restored from the file within 5 s ...
    await startedRuns(running, 'tock', 2, dueAfter(flushedAt), {
      timeoutMs: 5_000,
      what: 'tock running again after the flush',
    });
    // ... and the paused one is restored paused: its queue paused again, and no run since.
    await pausedAgain;
    expect(await running.control.queues.get('tick').isPaused()).toBe(true);
    // Proves a negative (no run of tick since the flush), so it takes a fixed time: three slots.
    await sleep(600);
    expect(await count()).toBe(pausedRuns);
    const list = await runCli(['list'], s.env);
    expect(list.stdout).toMatch(/tick\s+sleep\s+every 200ms\s+paused\s.*off before the flush/);
    expect(list.stdout).toMatch(/tock\s+sleep\s+every 200ms\s+active/);
  });
});
