import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { listSchedules } from '../../src/control/schedules';
import { reconcile } from '../../src/scheduler/reconcile';
import { runCli } from '../cli';
import { expectCadence } from './cadence';
import { deletePrefix } from './redis-keys';
import { dueAfter, reconciled, SchedulerTest, sleep, startedRuns, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

const every = (ms: number, extra = '') => `schedules:
  tick:
    job: sleep
    every: ${ms}ms
${extra}`;

describe('scheduler (real Redis and PostgreSQL)', () => {
  it('runs a schedule from the file at its interval', async () => {
    s = new SchedulerTest('sched');
    s.writeSchedules(every(300));
    await s.start();
    const runs = await waitFor(async () => {
      const rows = await s.runs('tick');
      return rows.filter((r) => r.state === 'completed').length >= 5 && rows;
    }, 'five runs');
    expectCadence(runs, 300);
    for (const run of runs) expect(run.worker).toMatch(/:\d+$/);
  });

  it('an edit of the interval changes the cadence without a restart', async () => {
    s = new SchedulerTest('sched');
    s.writeSchedules(every(500));
    await s.start();
    await waitFor(async () => (await s.runs('tick')).length >= 2, 'two runs at 500ms');
    const editedAt = Date.now();
    s.writeSchedules(every(150));
    const after = await waitFor(async () => {
      const rows = (await s.runs('tick')).filter((r) => r.scheduled_at.getTime() > editedAt);
      return rows.length >= 6 && rows;
    }, 'six runs at 150ms');
    // The edit is applied within 2 s, and from then on runs are due every 150ms.
    expect(after[0]?.scheduled_at.getTime()).toBeLessThan(editedAt + 2_000);
    expectCadence(after.slice(1), 150);
  });

  it('a broken edit keeps the old cadence and reports the error (state, log, `tickflow list`)', async () => {
    s = new SchedulerTest('sched');
    s.writeSchedules(every(200));
    const running = await s.start();
    await waitFor(async () => (await s.runs('tick')).length >= 2, 'two runs');
    s.writeSchedules(every(200).replace('every: 200ms', 'every: often'));
    const state = await waitFor(async () => {
      const current = await listSchedules(running.control);
      return current.fileError ? current : undefined;
    }, 'the load error');
    expect(state.fileError?.problems).toEqual([
      expect.objectContaining({ line: 4, column: 12, schedule: 'tick', field: 'every' }),
    ]);
    expect(state.schedules.map((x) => [x.name, x.cadence, x.paused])).toEqual([
      ['tick', 'every 200ms', false],
    ]);

    const brokenAt = Date.now();
    await startedRuns(running, 'tick', 4, dueAfter(brokenAt));
    const since = (await s.runs('tick')).filter((r) => r.scheduled_at.getTime() > brokenAt);
    expect(since.length).toBeGreaterThanOrEqual(4);
    expectCadence(since, 200);

    const list = await runCli(['list'], s.env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/tick\s+sleep\s+every 200ms\s+active/);
    expect(list.stdout).toMatch(
      /schedules\.yaml:4:12: schedule "tick", field "every": "often" is not a duration/,
    );
  });

  it('removing a schedule from the file stops it; the others go on', async () => {
    s = new SchedulerTest('sched');
    s.writeSchedules(every(200, '  other:\n    job: sleep\n    every: 200ms\n'));
    const running = await s.start();
    await waitFor(async () => (await s.runs('other')).length >= 2, 'runs of other');
    const removed = reconciled(running, 'other', 'removed');
    s.writeSchedules(every(200));
    await removed;
    expect(running.scheduler.queues()).toHaveLength(1);
    // A run of `other` taken before the removal finishes; none is taken after it.
    const otherQueue = new Queue('other', { connection: s.redis, prefix: s.config.queuePrefix });
    await waitFor(async () => (await otherQueue.getActiveCount()) === 0, 'the last run of other to end');
    await otherQueue.close();
    const stoppedAt = (await s.runs('other')).length;
    const tickBefore = (await s.runs('tick')).length;
    // Proves a negative (other never runs again), so it takes a fixed time: five of its slots.
    await sleep(1_000);
    expect((await s.runs('other')).length).toBe(stoppedAt);
    expect((await s.runs('tick')).length).toBeGreaterThan(tickBefore + 2);
    expect(await s.redis.exists(`${s.config.queuePrefix}:other:repeat:other`)).toBe(0);
  });

  it('restores a scheduler lost to a Redis flush within a few seconds', async () => {
    s = new SchedulerTest('sched');
    s.writeSchedules(every(200));
    const running = await s.start();
    await waitFor(async () => (await s.runs('tick')).length >= 2, 'two runs');
    const restored = reconciled(running, 'tick', 'restored', { timeoutMs: 5_000 });
    await deletePrefix(s.redis, s.config.queuePrefix);
    const flushedAt = Date.now();
    const after = startedRuns(running, 'tick', 3, dueAfter(flushedAt), { timeoutMs: 5_000 });
    expect(await running.scheduler.queues()[0]?.getJobScheduler('tick')).toBeUndefined();
    await restored;
    await after;
  });

  it('reconciles by difference: once in line, a pass changes nothing (also for paused and cron schedules)', async () => {
    s = new SchedulerTest('sched');
    s.writeSchedules(`schedules:
  fast:
    job: sleep
    every: 1m
  off:
    job: sleep
    every: 1m
    enabled: false
  nightly:
    job: sleep
    cron: "0 3 * * *"
    timezone: Europe/Paris
    params: { ms: 5 }
    retries: 2
`);
    const running = await s.start({ workers: false });
    const schedules = await s.schedules(running);
    expect(schedules.map((x) => [x.name, x.cadence, x.paused])).toEqual([
      ['fast', 'every 1m', false],
      ['off', 'every 1m', true],
      ['nightly', 'cron 0 3 * * * (Europe/Paris)', false],
    ]);
    const { control } = running;
    const changes = await reconcile(running.source.current.schedules, { ...control, log: s.t.log });
    expect(changes).toEqual([]);
  });
});
