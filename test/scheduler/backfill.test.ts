import { afterEach, describe, expect, it } from 'vitest';
import type { RunSummary } from '../../src/control/views';
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
