import type pg from 'pg';
import type { RunWindow } from '../runtime/job';
import type { Queryable } from './pool';
import { type ActionColumns, actionsOf, withoutActionColumns } from './run-actions';
import { POLICY_COLUMNS, type PolicyColumns, type PolicyFields, splitPolicyColumns } from './run-policy';
import type { RunState, RunTrigger } from './run-states';
import type { AttemptView, RunSummary } from './run-views';

/**
 * Reads of the durable run history: `runs` (one row per run) and `job_runs` (one per attempt).
 * Every query is bounded and follows an index (runs_recent or runs_by_state), so the grid and the
 * run list cost the same at a thousand rows as at millions.
 */

const SUMMARY = `schedule, run_id as "runId", job_type as "jobType", state, trigger, waiting_for as "waitingFor",
  triggered_by as "triggeredBy", attempts, due_at as "dueAt", started_at as "startedAt",
  finished_at as "finishedAt", error, window_from as "windowFrom", window_to as "windowTo",
  rerun_of as "rerunOf", cancelled_by as "cancelledBy", marked_from as "markedFrom", marked_by as "markedBy",
  marked_at as "markedAt", note, noted_by as "notedBy", noted_at as "notedAt", ${POLICY_COLUMNS},
  (extract(epoch from (coalesce(finished_at, case when state = 'active' then now() end) - started_at)) * 1000)::bigint
    as "durationMs"`;

interface SummaryRow
  extends Omit<
      RunSummary,
      'dueAt' | 'startedAt' | 'finishedAt' | 'window' | 'marked' | 'note' | PolicyFields
    >,
    ActionColumns,
    PolicyColumns {
  dueAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  windowFrom: Date | null;
  windowTo: Date | null;
}

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function toSummary({ windowFrom, windowTo, ...columns }: SummaryRow): RunSummary {
  const { rest: withActions, policy } = splitPolicyColumns(columns);
  const row = withoutActionColumns(withActions);
  return {
    ...row,
    ...actionsOf(withActions),
    ...policy,
    dueAt: row.dueAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    window: windowFrom && windowTo ? { from: windowFrom.toISOString(), to: windowTo.toISOString() } : null,
  };
}

export interface RunFilter {
  states?: RunState[];
}

/** Each schedule's runs due in [from, to], newest first, at most `perRow` each (the grid). */
export async function runsInWindow(
  db: pg.Pool,
  schedules: string[],
  window: { from: Date; to: Date; perRow: number } & RunFilter,
): Promise<RunSummary[]> {
  const { rows } = await db.query<SummaryRow>(
    `select r.* from unnest($1::text[]) as s(name)
       cross join lateral (
         select ${SUMMARY} from runs
          where schedule = s.name and due_at >= $2 and due_at <= $3
            and ($4::text[] is null or state = any($4))
          order by due_at desc limit $5) r`,
    [schedules, window.from, window.to, window.states ?? null, window.perRow],
  );
  return rows.map(toSummary);
}

/** The newest run of each schedule, whenever it was. */
export async function lastRuns(db: pg.Pool, schedules: string[]): Promise<Map<string, RunSummary>> {
  const { rows } = await db.query<SummaryRow>(
    `select r.* from unnest($1::text[]) as s(name)
       cross join lateral (
         select ${SUMMARY} from runs where schedule = s.name order by due_at desc limit 1) r`,
    [schedules],
  );
  return new Map(rows.map((row) => [row.schedule, toSummary(row)]));
}

/** A page of one schedule's runs, newest first, older than the cursor `before`. */
export async function pageOfRuns(
  db: pg.Pool,
  schedule: string,
  page: { limit: number; before?: { dueAt: Date; runId: string } } & RunFilter,
): Promise<RunSummary[]> {
  const { rows } = await db.query<SummaryRow>(
    `select ${SUMMARY} from runs
      where schedule = $1 and ($2::text[] is null or state = any($2))
        and ($3::timestamptz is null or (due_at, run_id) < ($3, $4))
      order by due_at desc, run_id desc limit $5`,
    [schedule, page.states ?? null, page.before?.dueAt ?? null, page.before?.runId ?? null, page.limit],
  );
  return rows.map(toSummary);
}

export interface StoredRun {
  summary: RunSummary;
  params: unknown;
  result: unknown;
  attempts: AttemptView[];
}

export async function findRun(db: pg.Pool, schedule: string, runId: string): Promise<StoredRun | undefined> {
  const [run, attempts] = await Promise.all([
    db.query<SummaryRow & { params: unknown; result: unknown }>(
      `select ${SUMMARY}, params, result from runs where schedule = $1 and run_id = $2`,
      [schedule, runId],
    ),
    db.query<Omit<AttemptView, 'startedAt' | 'finishedAt'> & { startedAt: Date; finishedAt: Date | null }>(
      `select attempt, state, started_at as "startedAt", finished_at as "finishedAt", worker, error, result,
              coalesce(logs, '[]'::jsonb) as logs,
              (extract(epoch from (finished_at - started_at)) * 1000)::bigint as "durationMs"
         from job_runs where schedule = $1 and job_id = $2 order by attempt`,
      [schedule, runId],
    ),
  ]);
  const row = run.rows[0];
  if (!row) return undefined;
  const { params, result, ...summary } = row;
  return {
    summary: toSummary(summary),
    params,
    result,
    attempts: attempts.rows.map((a) => ({
      ...a,
      startedAt: a.startedAt.toISOString(),
      finishedAt: iso(a.finishedAt),
    })),
  };
}

/** Runs a schedule makes for its own windows (scheduled and catch-up): what catch-up counts as covered. */
const OWN_WINDOWS = `trigger in ('schedule', 'catchup') and window_to is not null`;

/**
 * The end of the newest window each schedule's own runs covered or queued, among its latest 50
 * runs, in one query; a schedule with none is left out.
 */
export async function lastCoveredWindowEnds(db: Queryable, schedules: string[]): Promise<Map<string, Date>> {
  if (schedules.length === 0) return new Map();
  const { rows } = await db.query<{ schedule: string; to: Date | null }>(
    `select s.name as schedule, own.to from unnest($1::text[]) as s(name)
       cross join lateral (
         select max(window_to) as "to" from (
           select window_to from runs where schedule = s.name and ${OWN_WINDOWS}
            order by due_at desc limit 50) latest) own`,
    [schedules],
  );
  return new Map(rows.flatMap((row) => (row.to ? [[row.schedule, row.to] as const] : [])));
}

export async function lastCoveredWindowEnd(db: Queryable, schedule: string): Promise<Date | undefined> {
  return (await lastCoveredWindowEnds(db, [schedule])).get(schedule);
}

/**
 * Which of these window ends already have a run of the schedule's own. A run is never due before
 * its window ends, so the scan starts at the oldest one (runs_recent).
 */
export async function coveredWindowEnds(db: Queryable, schedule: string, ends: Date[]): Promise<Set<number>> {
  if (ends.length === 0) return new Set();
  const oldest = new Date(Math.min(...ends.map((end) => end.getTime())));
  const { rows } = await db.query<{ to: Date }>(
    `select window_to as "to" from runs
      where schedule = $1 and due_at >= $2 and window_to = any($3::timestamptz[]) and ${OWN_WINDOWS}`,
    [schedule, oldest, ends],
  );
  return new Set(rows.map((row) => row.to.getTime()));
}

/** What the history holds for one window of a schedule: its latest run's state, and whether any run of it completed. */
export interface WindowHistory {
  latest: RunState;
  completed: boolean;
}

/** The key of a window in windowHistories' answer. */
export const windowKey = (window: RunWindow): string => `${window.from.getTime()}-${window.to.getTime()}`;

/**
 * Per window of these (at most a backfill's thousand), what the schedule's runs of exactly that
 * window (window_from and window_to) say, whatever made them: the latest run by due time, and
 * whether one completed. A window no run covered is absent. A run is never due before its window
 * ends, so the scan of runs_recent starts at the earliest window end.
 */
export async function windowHistories(
  db: Queryable,
  schedule: string,
  windows: RunWindow[],
): Promise<Map<string, WindowHistory>> {
  if (windows.length === 0) return new Map();
  const earliestEnd = new Date(Math.min(...windows.map((window) => window.to.getTime())));
  const { rows } = await db.query<{ from: Date; to: Date; latest: RunState; completed: boolean }>(
    `select window_from as "from", window_to as "to",
            (array_agg(state order by due_at desc, run_id desc))[1] as latest,
            bool_or(state = 'completed') as completed
       from runs
      where schedule = $1 and due_at >= $2
        and (window_from, window_to) in (select * from unnest($3::timestamptz[], $4::timestamptz[]))
      group by window_from, window_to`,
    [schedule, earliestEnd, windows.map((w) => w.from), windows.map((w) => w.to)],
  );
  return new Map(rows.map(({ from, to, ...history }) => [windowKey({ from, to }), history]));
}

/**
 * The runs of one backfill (ids `backfill-<from>-<to>-<batch>`) by state. They share one due time
 * (when the backfill was queued): the newest run with that batch, found walking runs_recent from
 * now back, gives it, and the count reads that one due time.
 */
export async function backfillRunStates(
  db: Queryable,
  schedule: string,
  batch: string,
): Promise<Partial<Record<RunState, number>>> {
  const { rows } = await db.query<{ state: RunState; n: number }>(
    `with batch as (
       select due_at from runs
        where schedule = $1 and trigger = 'backfill' and run_id like $2
        order by due_at desc limit 1)
     select state, count(*)::int as n from runs
      where schedule = $1 and due_at = (select due_at from batch) and run_id like $2
      group by state`,
    [schedule, `backfill-%-${batch}`],
  );
  return Object.fromEntries(rows.map((row) => [row.state, row.n]));
}

/**
 * Records runs dropped from the queue before they ran as cancelled, saying why. A dropped run
 * cannot still run, so whatever its row said (queued, waiting, retrying between attempts, or failed
 * by the sweep of runs gone from Redis) is overwritten; a completed one is left alone.
 */
export async function recordCancelledRuns(
  db: Queryable,
  schedule: string,
  runIds: string[],
  why: string,
): Promise<number> {
  if (runIds.length === 0) return 0;
  const { rowCount } = await db.query(
    `update runs set state = 'cancelled', finished_at = now(), error = $3
      where schedule = $1 and run_id = any($2::text[]) and state <> 'completed'`,
    [schedule, runIds, why],
  );
  return rowCount ?? 0;
}

/** A run just queued (or waiting for its data), recorded before a worker starts it. */
export interface QueuedRun {
  runId: string;
  jobType: string;
  trigger: RunTrigger;
  triggeredBy: string | null;
  params: Record<string, unknown>;
  dueAt: Date;
  window?: { from: Date; to: Date };
  /** waiting: due, but not queued until its data is there (`waitingFor` says what it waits for). */
  state?: 'queued' | 'waiting';
  waitingFor?: string;
  /** A re-run: the run it redoes. */
  rerunOf?: string;
}

/**
 * Records queued runs in one statement. A worker may already have recorded one (it starts as soon
 * as it is added): only who triggered it is then added. A waiting run becomes queued.
 */
export async function recordQueuedRuns(db: Queryable, schedule: string, runs: QueuedRun[]): Promise<void> {
  if (runs.length === 0) return;
  await db.query(
    `insert into runs (schedule, run_id, job_type, state, trigger, triggered_by, params, due_at, window_from,
                       window_to, waiting_for, rerun_of)
     select $1, r.run_id, r.job_type, r.state, r.trigger, r.triggered_by, r.params, r.due_at, r.window_from,
            r.window_to, r.waiting_for, r.rerun_of
       from jsonb_to_recordset($2::jsonb) as r(run_id text, job_type text, state text, trigger text,
            triggered_by text, params jsonb, due_at timestamptz, window_from timestamptz, window_to timestamptz,
            waiting_for text, rerun_of text)
     on conflict (schedule, run_id) do update
       set triggered_by = coalesce(excluded.triggered_by, runs.triggered_by),
           rerun_of = coalesce(excluded.rerun_of, runs.rerun_of),
           state = case when runs.state = 'waiting' then excluded.state else runs.state end,
           waiting_for = case when excluded.state = 'waiting' then runs.waiting_for end`,
    [
      schedule,
      JSON.stringify(
        runs.map((run) => ({
          run_id: run.runId,
          job_type: run.jobType,
          state: run.state ?? 'queued',
          trigger: run.trigger,
          triggered_by: run.triggeredBy,
          params: run.params,
          due_at: run.dueAt,
          window_from: run.window?.from ?? null,
          window_to: run.window?.to ?? null,
          waiting_for: run.waitingFor ?? null,
          rerun_of: run.rerunOf ?? null,
        })),
      ),
    ],
  );
}

/** The windows of a schedule's waiting runs that end at or before `until`, oldest first (runs_waiting). */
export async function waitingWindows(db: Queryable, schedule: string, until: Date): Promise<RunWindow[]> {
  const { rows } = await db.query<{ from: Date; to: Date }>(
    `select window_from as "from", window_to as "to" from runs
      where schedule = $1 and state = 'waiting' and due_at <= $2
      order by due_at limit 1000`,
    [schedule, until],
  );
  return rows;
}

/** The latest run of one window of a schedule: what late data is checked against. */
export interface LatestWindowRun {
  window: RunWindow;
  state: RunState;
  startedAt: Date | null;
}

/**
 * Per window that ended after `since`, its latest run (by due time: a re-run is queued after the
 * run it redoes). Follows runs_recent: a run is never due before its window ends.
 */
export async function latestRunPerWindow(
  db: Queryable,
  schedule: string,
  since: Date,
): Promise<LatestWindowRun[]> {
  const { rows } = await db.query<{ from: Date; to: Date; state: RunState; startedAt: Date | null }>(
    `select distinct on (window_to) window_from as "from", window_to as "to", state, started_at as "startedAt"
       from runs
      where schedule = $1 and due_at > $2 and window_to > $2 and window_from is not null
      order by window_to, due_at desc`,
    [schedule, since],
  );
  return rows.map(({ from, to, ...run }) => ({ window: { from, to }, ...run }));
}
