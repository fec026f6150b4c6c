import { afterEach, describe, expect, it } from 'vitest';
import { backfill } from '../../src/control/backfill';
import type { BackfillView, CancelledBackfill, RunSummary } from '../../src/control/views';
import { backfillBatchOf } from '../../src/queues/run-ids';
import { CATCHING_UP_PRIORITY } from '../../src/queues/window-runs';
import { runCli } from '../cli';
import { SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

// Hourly: the scheduler's own first run comes at once; backfill runs must not overlap it or each other.
const HOURLY = 'schedules:\n  hourly:\n    job: sleep\n    every: 1h\n    params: { ms: 150 }\n';

interface Row {
  run_id: string;
  trigger: string;
  triggered_by: string | null;
  state: string;
  window_from: Date | null;
  window_to: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

async function runsOf(schedule: string): Promise<Row[]> {
  const { rows } = await s.db.query<Row>(
    `select run_id, trigger, triggered_by, state, window_from, window_to, started_at, finished_at
       from runs where schedule = $1 order by window_from nulls last`,
    [schedule],
  );
  return rows;
}

const completedBackfills = async (schedule: string, count: number) => {
  const rows = await runsOf(schedule);
  const done = rows.filter((r) => r.trigger === 'backfill' && r.state === 'completed');
  return done.length === count && rows.every((r) => r.state === 'completed') && rows;
};

describe('tickflow backfill (real Redis and PostgreSQL)', () => {
  it('3 windows make 3 runs with the right windows, one at a time beside the scheduled run', async () => {
    s = new SchedulerTest('backfill');
    s.writeSchedules(HOURLY);
    await s.start();
    const result = await runCli(
      ['backfill', 'hourly', '--from', '2024-03-01T00:00:00Z', '--to', '2024-03-01T03:30:00Z'],
      s.env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^queued 3 backfill run\(s\) of hourly:\n/);

    const rows = await waitFor(() => completedBackfills('hourly', 3), 'three backfill runs done');
    const backfills = rows.filter((r) => r.trigger === 'backfill');
    expect(backfills.map((r) => [r.window_from?.toISOString(), r.window_to?.toISOString()])).toEqual([
      ['2024-03-01T00:00:00.000Z', '2024-03-01T01:00:00.000Z'],
      ['2024-03-01T01:00:00.000Z', '2024-03-01T02:00:00.000Z'],
      ['2024-03-01T02:00:00.000Z', '2024-03-01T03:00:00.000Z'],
    ]);
    expect(backfills.every((r) => r.triggered_by?.startsWith('cli:'))).toBe(true);
    // overlap: skip holds for backfill runs too: no two runs of the schedule were active at once.
    const spans = rows
      .map((r) => [r.started_at?.getTime() ?? 0, r.finished_at?.getTime() ?? 0] as const)
      .sort((a, b) => a[0] - b[0]);
    expect(spans.length).toBeGreaterThanOrEqual(4);
    for (let i = 1; i < spans.length; i++) {
      expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] ?? 0);
    }
    // The scheduled run's window is the hour before its due time.
    const scheduled = rows.find((r) => r.trigger === 'schedule');
    expect((scheduled?.window_to?.getTime() ?? 0) - (scheduled?.window_from?.getTime() ?? 0)).toBe(3_600_000);

    // `tickflow runs --json` (the API's run view) shows each backfill run with its window.
    const list = await runCli(['runs', 'hourly', '--json'], s.env);
    const listed = list.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunSummary);
    expect(listed.filter((r) => r.trigger === 'backfill').map((r) => r.window?.from)).toEqual([
      '2024-03-01T02:00:00.000Z',
      '2024-03-01T01:00:00.000Z',
      '2024-03-01T00:00:00.000Z',
    ]);
    // And in plain text, with how each came.
    const text = (await runCli(['runs', 'hourly'], s.env)).stdout;
    expect(text).toContain('backfill [2024-03-01T00:00:00.000Z, 2024-03-01T01:00:00.000Z)');
  });

  it('refuses bad ranges with exit 1, naming the flag', async () => {
    s = new SchedulerTest('backfill');
    s.writeSchedules('schedules:\n  tick:\n    job: sleep\n    every: 1s\n');
    await s.start({ workers: false });
    const backfill = (from: string, to: string) =>
      runCli(['backfill', 'tick', '--from', from, '--to', to], s.env);

    const notIso = await backfill('yesterday', '2024-03-01T00:00:00Z');
    expect(notIso.code).toBe(1);
    expect(notIso.stderr).toMatch(/^error: --from "yesterday": expected an ISO 8601 time with a zone/);

    // A time without its zone would mean the server's local time: refused, naming the flag.
    const noZone = await backfill('2024-03-01T00:00:00', '2024-03-01T00:00:05Z');
    expect(noZone.code).toBe(1);
    expect(noZone.stderr).toMatch(
      /^error: --from "2024-03-01T00:00:00": expected an ISO 8601 time with a zone/,
    );

    const backwards = await backfill('2024-03-01T01:00:00Z', '2024-03-01T00:00:00Z');
    expect(backwards.code).toBe(1);
    expect(backwards.stderr).toMatch(/^error: --to: must be after from/);

    const tooMany = await backfill('2024-03-01T00:00:00Z', '2024-03-01T01:00:00Z');
    expect(tooMany.code).toBe(1);
    expect(tooMany.stderr).toMatch(
      /--to: .*more than 1000 windows of every 1s; backfill at most 1000 at a time/,
    );

    const tooShort = await backfill('2024-03-01T00:00:00Z', '2024-03-01T00:00:00.500Z');
    expect(tooShort.stderr).toMatch(/--to: \[from, to\) holds no whole window of every 1s/);

    const fine = await backfill('2024-03-01T00:00:00Z', '2024-03-01T00:00:05+00:00');
    expect(fine.stdout).toMatch(/^queued 5 backfill run\(s\) of tick:/);
    const unknown = await runCli(
      ['backfill', 'nope', '--from', '2024-03-01T00:00:00Z', '--to', '2024-03-02T00:00:00Z'],
      s.env,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no schedule named "nope"; known schedules: tick');
  });

  it('POST /api/v1/schedules/{name}/backfill goes through the same operation; bad input is a 400 naming the field', async () => {
    s = new SchedulerTest('backfill');
    s.writeSchedules('schedules:\n  daily:\n    job: sleep\n    cron: "0 0 * * *"\n');
    const app = await s.start({ web: true });
    const post = (body: unknown, schedule = 'daily') =>
      fetch(`${app.web?.url}/api/v1/schedules/${schedule}/backfill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const bad = await post({ from: '2024-03-01', to: '2024-03-04T00:00:00Z' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: unknown }).issues).toEqual([
      { field: 'from', message: expect.stringMatching(/ISO 8601/) },
    ]);
    const issuesOf = async (response: Response) => {
      expect(response.status).toBe(400);
      return ((await response.json()) as { issues: { field: string }[] }).issues.map((i) => i.field);
    };
    expect(await issuesOf(await post({ from: '2024-03-01T00:00:00Z', to: 'tomorrow' }))).toEqual(['to']);
    expect(await issuesOf(await post({ from: '2024-03-04T00:00:00Z', to: '2024-03-01T00:00:00Z' }))).toEqual([
      'to',
    ]);
    expect(
      await issuesOf(await post({ from: '2024-03-01T00:00:00Z', to: '2024-03-04T00:00:00Z', params: {} })),
    ).toEqual(['params']);
    expect((await post({ from: '2024-03-01T00:00:00Z', to: '2024-03-04T00:00:00Z' }, 'nope')).status).toBe(
      404,
    );

    const made = await post({ from: '2024-03-01T00:00:00Z', to: '2024-03-04T00:00:00Z' });
    expect(made.status).toBe(201);
    const view = (await made.json()) as { runs: { runId: string; window: { from: string } }[] };
    expect(view.runs.map((r) => r.window.from)).toEqual([
      '2024-03-01T00:00:00.000Z',
      '2024-03-02T00:00:00.000Z',
      '2024-03-03T00:00:00.000Z',
    ]);
    const rows = await waitFor(() => completedBackfills('daily', 3), 'three backfill runs done');
    expect(rows.filter((r) => r.trigger === 'backfill').every((r) => r.triggered_by === 'api:local')).toBe(
      true,
    );
  });
});

const at = (iso: string, plusMs = 0) => new Date(new Date(iso).getTime() + plusMs);
const FROM = '2024-03-01T00:00:00Z';

interface TimedRow extends Row {
  due_at: Date;
  error: string | null;
}

async function timedRunsOf(schedule: string): Promise<TimedRow[]> {
  const { rows } = await s.db.query<TimedRow>(
    `select run_id, trigger, triggered_by, state, window_from, window_to, due_at, started_at, finished_at, error
       from runs where schedule = $1 order by due_at, run_id`,
    [schedule],
  );
  return rows;
}

describe('backfill behind live runs; dry run, reprocess and cancel (real Redis and PostgreSQL)', () => {
  it('a live run due while a 50-window backfill drains starts after at most one backfill run', async () => {
    s = new SchedulerTest('backfill');
    s.writeSchedules('schedules:\n  tick:\n    job: sleep\n    every: 1s\n    params: { ms: 200 }\n');
    const app = await s.start();
    await waitFor(
      async () =>
        (await timedRunsOf('tick')).some((r) => r.trigger === 'schedule' && r.state === 'completed'),
      'a first live run',
    );
    const queuedAt = Date.now();
    const queued = await backfill(app.control, 'tick', { from: at(FROM), to: at(FROM, 50_000), by: 'test' });
    expect(queued.runs).toHaveLength(50);
    // Behind the live runs: BullMQ holds them as prioritized jobs, not waiting ones.
    const queue = app.control.queues.get('tick');
    const held = await queue.getJobs(['prioritized']);
    expect(held.length).toBeGreaterThan(40);
    expect(held.every((job) => job.priority === CATCHING_UP_PRIORITY)).toBe(true);

    const rows = await waitFor(
      async () => {
        const rows = await timedRunsOf('tick');
        const done = rows.filter((r) => r.trigger === 'backfill' && r.state === 'completed');
        return done.length === 50 && rows;
      },
      'the backfill done',
      60_000,
    );
    const backfillStarts = rows
      .filter((r) => r.trigger === 'backfill')
      .map((r) => r.started_at?.getTime() ?? Number.NaN);
    const lastBackfillStart = Math.max(...backfillStarts);
    const backfillDone = Math.max(
      ...rows.map((r) => (r.trigger === 'backfill' ? (r.finished_at?.getTime() ?? 0) : 0)),
    );
    // The live runs that fell due while the backfill was still queued.
    const live = rows.filter(
      (r) =>
        r.trigger === 'schedule' && r.due_at.getTime() > queuedAt && r.due_at.getTime() < lastBackfillStart,
    );
    // ~10 s of backfill at one run a second: the schedule kept running all along, not after it.
    expect(live.length).toBeGreaterThanOrEqual(5);
    for (const run of live) {
      const due = run.due_at.getTime();
      const started = run.started_at?.getTime() ?? Number.POSITIVE_INFINITY;
      const startedBetween = backfillStarts.filter((t) => t > due && t < started);
      expect(
        startedBetween.length,
        `backfill runs started between ${run.run_id}'s due time and its start`,
      ).toBeLessThanOrEqual(1);
      expect(started).toBeLessThan(backfillDone);
    }
    // Still oldest window first among themselves.
    const byStart = rows
      .filter((r) => r.trigger === 'backfill')
      .sort((a, b) => (a.started_at?.getTime() ?? 0) - (b.started_at?.getTime() ?? 0));
    expect(byStart.map((r) => r.window_from?.getTime())).toEqual(
      queued.runs.map((r) => new Date(r.window.from).getTime()),
    );
  });

  it('--dry-run lists the windows and queues nothing', async () => {
    s = new SchedulerTest('backfill');
    s.writeSchedules('schedules:\n  tick:\n    job: sleep\n    every: 1s\n');
    const app = await s.start({ workers: false });
    const result = await runCli(
      ['backfill', 'tick', '--from', FROM, '--to', '2024-03-01T00:00:03Z', '--dry-run'],
      s.env,
    );
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'dry run: would queue 3 backfill run(s) of tick:\n' +
        '  [2024-03-01T00:00:00.000Z, 2024-03-01T00:00:01.000Z)\n' +
        '  [2024-03-01T00:00:01.000Z, 2024-03-01T00:00:02.000Z)\n' +
        '  [2024-03-01T00:00:02.000Z, 2024-03-01T00:00:03.000Z)\n',
    );
    const queue = app.control.queues.get('tick');
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed']);
    expect(jobs.filter((job) => backfillBatchOf(String(job.id)) !== undefined)).toEqual([]);
    expect((await timedRunsOf('tick')).filter((r) => r.trigger === 'backfill')).toEqual([]);
  });

  it('--reprocess failed|missing picks the windows by their runs in PostgreSQL', async () => {
    s = new SchedulerTest('backfill');
    s.writeSchedules('schedules:\n  tick:\n    job: sleep\n    every: 1s\n');
    const app = await s.start({ workers: false, web: true });
    // Windows 0..5 of [FROM, FROM + 6s): what earlier runs of each left.
    const history: [number, string, string][] = [
      [0, 'schedule', 'completed'],
      [1, 'schedule', 'failed'],
      [2, 'schedule', 'failed'],
      [2, 'backfill', 'completed'], // failed, then redone: the latest completed
      [3, 'backfill', 'cancelled'],
      [4, 'schedule', 'queued'], // not run yet
      // 5: never run
    ];
    for (const [i, trigger, state] of history) {
      await s.db.query(
        `insert into runs (schedule, run_id, job_type, state, trigger, params, due_at, window_from, window_to)
         values ('tick', $1, 'sleep', $2, $3, '{}', $4, $5, $6)`,
        [
          `r${i}-${trigger}`,
          state,
          trigger,
          at(FROM, (i + 1) * 1000 + (trigger === 'backfill' ? 60_000 : 0)),
          at(FROM, i * 1000),
          at(FROM, (i + 1) * 1000),
        ],
      );
    }
    const window = (i: number) => ({
      from: at(FROM, i * 1000).toISOString(),
      to: at(FROM, (i + 1) * 1000).toISOString(),
    });
    const post = async (body: Record<string, unknown>) => {
      const response = await fetch(`${app.web?.url}/api/v1/schedules/tick/backfill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ from: FROM, to: '2024-03-01T00:00:06Z', ...body }),
      });
      return { status: response.status, view: (await response.json()) as BackfillView };
    };

    const failed = await post({ dryRun: true, reprocess: 'failed' });
    expect(failed.status).toBe(200);
    expect(failed.view).toMatchObject({ id: null, dryRun: true, reprocess: 'failed' });
    expect(failed.view.runs).toEqual([1, 3].map((i) => ({ runId: null, window: window(i) })));
    expect(failed.view.skipped).toEqual([
      { window: window(0), latest: 'completed' },
      { window: window(2), latest: 'completed' },
      { window: window(4), latest: 'queued' },
      { window: window(5), latest: null },
    ]);

    const missing = await post({ dryRun: true, reprocess: 'missing' });
    expect(missing.view.runs.map((r) => r.window)).toEqual([1, 3, 4, 5].map(window));
    expect(missing.view.skipped.map((r) => r.window)).toEqual([0, 2].map(window));

    const all = await post({ dryRun: true });
    expect(all.view.reprocess).toBe('all');
    expect(all.view.runs).toHaveLength(6);
    expect(all.view.skipped).toEqual([]);
    // Nothing queued (the one waiting job is the schedule's own next run).
    expect(await app.control.queues.get('tick').getJobCounts('prioritized')).toEqual({ prioritized: 0 });
    expect((await post({ reprocess: 'some' })).status).toBe(400);

    // For real, from the CLI: the two failed windows are queued, the rest listed as skipped.
    const cli = await runCli(
      ['backfill', 'tick', '--from', FROM, '--to', '2024-03-01T00:00:06Z', '--reprocess', 'failed'],
      s.env,
    );
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(/^queued 2 backfill run\(s\) of tick \(--reprocess failed\):\n/);
    expect(cli.stdout).toContain('skipped 4 window(s) (--reprocess failed):');
    expect(cli.stdout).toContain('  [2024-03-01T00:00:05.000Z, 2024-03-01T00:00:06.000Z)  latest run: none');
    const id = /backfill ([0-9a-f]{8}): cancel with `tickflow backfill cancel tick \1`/.exec(cli.stdout)?.[1];
    expect(id).toBeDefined();
    const jobs = await app.control.queues.get('tick').getJobs(['prioritized']);
    expect(jobs.map((job) => String(job.id)).sort()).toEqual(
      [1, 3].map(
        (i) => `backfill-${at(FROM, i * 1000).getTime()}-${at(FROM, (i + 1) * 1000).getTime()}-${id}`,
      ),
    );
  });

  it('cancel drops the runs not started (removed from BullMQ, recorded cancelled); a started one finishes', async () => {
    s = new SchedulerTest('backfill');
    // Hourly: its own first run comes at once; each run takes 1.5 s, one at a time (overlap: skip).
    s.writeSchedules('schedules:\n  hourly:\n    job: sleep\n    every: 1h\n    params: { ms: 1500 }\n');
    const app = await s.start({ web: true });
    const made = await backfill(app.control, 'hourly', {
      from: at(FROM),
      to: at(FROM, 5 * 3_600_000),
      by: 'test',
    });
    expect(made.id).toMatch(/^[0-9a-f]{8}$/);
    const id = made.id as string;
    await waitFor(
      async () => (await timedRunsOf('hourly')).some((r) => r.trigger === 'backfill' && r.state === 'active'),
      'the first backfill run to start',
    );
    const del = (backfillId: string, schedule = 'hourly') =>
      fetch(`${app.web?.url}/api/v1/schedules/${schedule}/backfills/${backfillId}`, { method: 'DELETE' });
    const cancelled = await del(id);
    expect(cancelled.status).toBe(200);
    expect((await cancelled.json()) as CancelledBackfill).toEqual({
      schedule: 'hourly',
      id,
      dropped: 4,
      started: 1,
      running: 1,
    });
    const queue = app.control.queues.get('hourly');
    const left = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active']);
    expect(left.filter((job) => backfillBatchOf(String(job.id)) === id).map((job) => job.id)).toEqual([
      made.runs[0]?.runId,
    ]);
    const rows = (await timedRunsOf('hourly')).filter((r) => r.trigger === 'backfill');
    const dropped = rows.filter((r) => r.state === 'cancelled');
    expect(dropped.map((r) => r.run_id).sort()).toEqual(
      made.runs
        .slice(1)
        .map((r) => r.runId)
        .sort(),
    );
    expect(dropped.every((r) => r.finished_at !== null && r.started_at === null)).toBe(true);
    expect(dropped[0]?.error).toBe(`backfill ${id} cancelled by api:local`);
    // The started one runs to completion; nothing of the backfill runs after it.
    await waitFor(
      async () =>
        (await timedRunsOf('hourly')).some(
          (r) => r.run_id === made.runs[0]?.runId && r.state === 'completed',
        ),
      'the started backfill run to complete',
    );

    // Again, from the CLI: nothing more to drop, and says so.
    const again = await runCli(['backfill', 'cancel', 'hourly', id], s.env);
    expect(again.stderr).toBe('');
    expect(again.stdout).toBe(
      `cancelled backfill ${id} of hourly: dropped 0 run(s) not started; 1 had started (0 still running, left to finish)\n`,
    );
    const unknown = await del('deadbeef');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/^no backfill "deadbeef" of hourly/);
    expect((await del('not-an-id')).status).toBe(404);
    expect((await del(id, 'nope')).status).toBe(404);
  });
});
