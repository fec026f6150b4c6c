import { afterEach, describe, expect, it } from 'vitest';
import { withScheduleStore } from '../../src/cli/schedule-store';
import { toggleSchedule } from '../../src/scheduler/toggle';
import { runCli } from '../cli';
import { SchedulerTest, sleep, waitFor } from './support';

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
    await sleep(400);
    const atPause = await count();
    await s.stop(running);
    running = await s.start();
    await sleep(1_200);
    expect(await count()).toBe(atPause);
    const state = await running.scheduler.state();
    expect(state.schedules[0]).toMatchObject({
      paused: true,
      lastToggle: { paused: true, note: 'db maintenance' },
    });
    const list = await runCli(['list'], s.env);
    expect(list.stdout).toMatch(/tick\s+sleep\s+every 200ms\s+paused\s+\S+\s+paused \S+ db maintenance/);

    const resumedAt = Date.now();
    // The switch `tickflow resume` uses, called in-process for a precise time.
    await withScheduleStore(s.config, ({ queues, memory }) =>
      toggleSchedule(queues.get('tick'), memory, false, 'done'),
    );
    await sleep(1_000);
    const after = (await s.runs('tick')).slice(atPause);
    // Only the one run held by the pause is overdue; the rest follow the cadence (no catch-up burst).
    expect(after.filter((r) => r.scheduled_at.getTime() < resumedAt - 200)).toHaveLength(1);
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after.length).toBeLessThanOrEqual(7);
  });

  it('the file `enabled:` applies when the schedule is created or the value changes, never over a person', async () => {
    s = new SchedulerTest('pause');
    s.writeSchedules(tick(false));
    let running = await s.start();
    await sleep(600);
    expect(await count()).toBe(0);

    expect((await runCli(['resume', 'tick'], s.env)).code).toBe(0);
    await waitFor(async () => (await count()) >= 1, 'a run after the resume');
    await s.stop(running);
    running = await s.start();
    // The file still says false, but it did not change: the person's resume stands.
    expect((await running.scheduler.state()).schedules[0]?.paused).toBe(false);

    // A person pauses it; then the file's value changes (false → true), and that change applies.
    expect((await runCli(['pause', 'tick'], s.env)).code).toBe(0);
    expect((await running.scheduler.state()).schedules[0]?.paused).toBe(true);
    s.writeSchedules(tick(true));
    await waitFor(
      async () => !(await running.scheduler.state()).schedules[0]?.paused,
      'the file resuming it',
    );
    expect((await running.scheduler.state()).schedules[0]?.paused).toBe(false);
    s.writeSchedules(tick(false));
    await waitFor(async () => (await running.scheduler.state()).schedules[0]?.paused, 'the file pausing it');
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
