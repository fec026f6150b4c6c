import { Queue } from 'bullmq';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { jobs } from '../../jobs/index';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import { setPaused } from '../../src/control/toggle';
import type { Queryable } from '../../src/db/pool';
import { ScheduleStates } from '../../src/db/schedule-states';
import { jobsInRedis } from '../../src/queues/queues';
import { catchUp, heldRunOf } from '../../src/scheduler/catchup';
import { loadSchedulesFile } from '../../src/schedules/load';
import type { ClockSchedule } from '../../src/schedules/schedule';
import { SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

const SECOND = 1_000;

interface WindowRow {
  run_id: string;
  trigger: string;
  state: string;
  window_from: Date;
  window_to: Date;
}

const tick = (catchup: string) => `schedules:
  tick:
    job: sleep
    every: 1s
    catchup: ${catchup}
`;

async function windows(after: number): Promise<WindowRow[]> {
  const { rows } = await s.db.query<WindowRow>(
    `select run_id, trigger, state, window_from, window_to from runs
      where schedule = 'tick' and window_to > $1 order by window_to`,
    [new Date(after)],
  );
  return rows;
}

/**
 * Pauses `tick` for three of its windows: the run held by the pause is due at `held`, and the
 * resume comes once the slots held + 1 s and held + 2 s have passed too. Returns `held`.
 */
async function pauseForThreeWindows(running: SchedulerApp): Promise<number> {
  await waitFor(async () => (await windows(0)).some((r) => r.state === 'completed'), 'a first run');
  await setPaused(running.control, 'tick', { paused: true, by: 'test' });
  const queue = running.control.queues.get('tick');
  await waitFor(async () => (await queue.getActiveCount()) === 0, 'no run active');
  const held = (await queue.getJobScheduler('tick'))?.next;
  if (!held) throw new Error('expected the job scheduler to hold a run');
  await waitFor(async () => Date.now() >= held + 2 * SECOND + 100, 'three slots missed', 5_000);
  await setPaused(running.control, 'tick', { paused: false, by: 'test' });
  return held;
}

/** Waits for a run of the schedule's own cadence after the missed windows: the schedule goes on. */
async function onCadenceAgain(held: number): Promise<WindowRow[]> {
  return waitFor(async () => {
    const rows = await windows(held - SECOND);
    const after = rows.find((r) => r.window_to.getTime() > held + 2 * SECOND && r.trigger === 'schedule');
    return after?.state === 'completed' && rows.every((r) => r.state === 'completed') && rows;
  }, 'a scheduled run after the catch-up');
}

const missed = (rows: WindowRow[], held: number) =>
  rows
    .filter((r) => r.window_to.getTime() <= held + 2 * SECOND)
    .map((r) => ({
      trigger: r.trigger,
      from: r.window_from.getTime() - held,
      to: r.window_to.getTime() - held,
    }));

describe('catchup: windows missed while paused or down (real Redis and PostgreSQL)', () => {
  it('all: one run per missed window, oldest first, each with its window; then the cadence', async () => {
    s = new SchedulerTest('catchup');
    s.writeSchedules(tick('all'));
    const running = await s.start();
    const held = await pauseForThreeWindows(running);
    const rows = await onCadenceAgain(held);
    expect(missed(rows, held)).toEqual([
      { trigger: 'schedule', from: -SECOND, to: 0 },
      { trigger: 'catchup', from: 0, to: SECOND },
      { trigger: 'catchup', from: SECOND, to: 2 * SECOND },
    ]);
    // Oldest first: each missed window started after the one before it.
    const { rows: starts } = await s.db.query<{ started_at: Date }>(
      `select started_at from runs where schedule = 'tick' and window_to between $1 and $2 order by window_to`,
      [new Date(held), new Date(held + 2 * SECOND)],
    );
    const times = starts.map((r) => r.started_at.getTime());
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // The worker reads a catch-up run's due time from its id: the slot it missed, as queued.
    const { rows: due } = await s.db.query<{ dueAt: Date; scheduledAt: Date; windowTo: Date }>(
      `select r.due_at as "dueAt", a.scheduled_at as "scheduledAt", r.window_to as "windowTo"
         from runs r join job_runs a on a.schedule = r.schedule and a.job_id = r.run_id
        where r.schedule = 'tick' and r.trigger = 'catchup'`,
    );
    expect(due).toHaveLength(2);
    for (const run of due) expect([run.dueAt, run.scheduledAt]).toEqual([run.windowTo, run.windowTo]);
  });

  it('last: one run, for the latest missed window; the stale held run never runs', async () => {
    s = new SchedulerTest('catchup');
    s.writeSchedules(tick('last'));
    const running = await s.start();
    const held = await pauseForThreeWindows(running);
    const rows = await onCadenceAgain(held);
    expect(missed(rows, held)).toEqual([{ trigger: 'catchup', from: SECOND, to: 2 * SECOND }]);
    const { rows: attempts } = await s.db.query(
      `select 1 from job_runs where schedule = 'tick' and job_id = $1`,
      [`repeat:tick:${held}`],
    );
    expect(attempts).toHaveLength(0);
  });

  it.each([
    [
      'all',
      [
        { trigger: 'schedule', from: -SECOND, to: 0 },
        { trigger: 'catchup', from: 0, to: SECOND },
        { trigger: 'catchup', from: SECOND, to: 2 * SECOND },
      ],
    ],
    ['last', [{ trigger: 'catchup', from: SECOND, to: 2 * SECOND }]],
  ])(
    'downtime (%s): a scheduler started after missed windows catches up before its workers run',
    async (catchup, expected) => {
      s = new SchedulerTest('catchup');
      s.writeSchedules(tick(catchup));
      const held = await downForThreeWindows();
      await s.start();
      expect(missed(await onCadenceAgain(held), held)).toEqual(expected);
    },
  );

  // Without the row lock the second pass reads PostgreSQL before the first commits, finds the windows
  // neither there nor in Redis, and queues them again (checked: this fails with `for update` removed).
  it("a second scheduler waits for the first one's catch-up to commit, so it never queues a window again", async () => {
    s = new SchedulerTest('catchup');
    s.writeSchedules(tick('all'));
    await downForThreeWindows();
    const [schedule] = (await loadSchedulesFile(s.file, jobs)).schedules;
    if (!schedule) throw new Error('expected the tick schedule');
    const queue = new Queue('tick', { connection: s.redis, prefix: s.config.queuePrefix });
    onTestFinished(() => queue.close());
    let second: Promise<unknown> | undefined;
    let secondDone = false;
    const caughtUpRuns = await new ScheduleStates(s.db).locked('tick', async (state) => {
      // The first scheduler's pass: catch-up under the row lock, not committed yet.
      const held = heldRunOf(await queue.getJobScheduler('tick'));
      await catchUp(schedule as ClockSchedule, { queue, redis: s.redis, db: state.db }, { held });
      const { rows } = await state.db.query<{ run_id: string }>(
        `select run_id from runs where schedule = 'tick' and trigger = 'catchup'`,
      );
      // Redis forgets those runs, as once they have run and `keep:` trimmed them: from now on only
      // this transaction knows the windows are taken, and only once it commits.
      for (const { run_id } of rows) await queue.remove(run_id);
      const first = await backendPid(state.db);
      second = s.start({ workers: false }).finally(() => {
        secondDone = true;
      });
      await waitFor(
        async () => secondDone || (await waitingFor(first)),
        "the second scheduler's pass to wait for the first one's transaction",
      );
      return rows.map((row) => row.run_id);
    });
    await second;
    expect(caughtUpRuns.length).toBeGreaterThanOrEqual(2);
    // Queued again, they would run again: the second pass must have seen them in PostgreSQL.
    expect(
      await jobsInRedis(
        s.redis,
        caughtUpRuns.map((id) => ({ queue, id })),
      ),
    ).toEqual(caughtUpRuns.map(() => false));
  });
});

/**
 * Runs `tick` until its first run completes, stops the scheduler, and waits while the slots held,
 * held + 1 s and held + 2 s pass with nothing running. Returns `held`, the slot of the run the job
 * scheduler holds.
 */
async function downForThreeWindows(): Promise<number> {
  const first = await s.start();
  await waitFor(async () => (await windows(0)).some((r) => r.state === 'completed'), 'a first run');
  await s.stop(first);
  const queue = new Queue('tick', { connection: s.redis, prefix: s.config.queuePrefix });
  onTestFinished(() => queue.close());
  const held = (await queue.getJobScheduler('tick'))?.next;
  if (!held) throw new Error('expected the job scheduler to hold a run');
  await waitFor(async () => Date.now() >= held + 2 * SECOND + 100, 'three slots missed while down', 5_000);
  return held;
}

async function backendPid(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ pid: number }>('select pg_backend_pid() as pid');
  return rows[0]?.pid ?? 0;
}

/** Whether some session waits for a lock the session `pid` holds. */
async function waitingFor(pid: number): Promise<boolean> {
  const { rows } = await s.db.query<{ waiting: number }>(
    'select count(*)::int as waiting from pg_stat_activity where $1 = any(pg_blocking_pids(pid))',
    [pid],
  );
  return (rows[0]?.waiting ?? 0) > 0;
}
