import type { Queryable } from './pool';
import type { SkipReason } from './run-states';
import type { RunSummary } from './run-views';

/**
 * What the failure policy (src/worker/failure-policy.ts) reads and writes of the runs history: the
 * failing streaks behind pauseAfter and a recovery notice, a run's missed deadline, and the slots the
 * job scheduler skipped before a late run. Each query follows runs_by_state or runs_recent.
 */

/** Which failing streak to count. */
export interface StreakOptions {
  /** Count at most this many. */
  cap: number;
  /** The streak just before the run due then (not counting it): the one a completed run ends. */
  before?: Date;
  /** Only runs finished since the schedule was last resumed: a person's resume starts a new streak. */
  sinceResume?: boolean;
}

/**
 * Failed runs in a row: those due after the schedule's last completed run (before `before`, when
 * given), at most `cap`. Behind failure notifications (up to now), pauseAfter (since the last
 * resume; schedule_state's changed_at is when the switch last moved) and a recovery notice (before
 * the run that completed). Follows runs_by_state.
 */
export async function failedStreak(db: Queryable, schedule: string, options: StreakOptions): Promise<number> {
  const { rows } = await db.query<{ streak: number }>(
    `select count(*)::int as streak from (
       select 1 from runs
        where schedule = $1 and state = 'failed' and ($2::timestamptz is null or due_at < $2)
          and due_at > coalesce(
                (select max(due_at) from runs
                  where schedule = $1 and state = 'completed' and ($2::timestamptz is null or due_at < $2)),
                '-infinity')
          and (not $3 or finished_at >= coalesce(
                (select changed_at from schedule_state where schedule = $1 and not paused), '-infinity'))
        limit $4) failed`,
    [schedule, options.before ?? null, options.sinceResume ?? false, options.cap],
  );
  return rows[0]?.streak ?? 0;
}

/**
 * Flags a run as past its deadline while it is still running; true for the one call that flags it
 * (a later attempt, or another worker, finds it flagged): the notice is sent once.
 */
export async function markDeadlineMissed(db: Queryable, schedule: string, runId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `update runs set deadline_missed_at = now()
      where schedule = $1 and run_id = $2 and deadline_missed_at is null and state in ('active', 'retrying')`,
    [schedule, runId],
  );
  return (rowCount ?? 0) > 0;
}

/** The run due before `dueAt` (the one a late run may have waited for), by due time. */
export async function runBefore(
  db: Queryable,
  schedule: string,
  dueAt: Date,
): Promise<{ runId: string; finishedAt: Date | null; state: string } | undefined> {
  const { rows } = await db.query<{ runId: string; finishedAt: Date | null; state: string }>(
    `select run_id as "runId", finished_at as "finishedAt", state from runs
      where schedule = $1 and due_at < $2 order by due_at desc limit 1`,
    [schedule, dueAt],
  );
  return rows[0];
}

/** When the schedule's switch last moved, and whether it is paused now. */
export async function switchMovedAt(
  db: Queryable,
  schedule: string,
): Promise<{ changedAt: Date; paused: boolean } | undefined> {
  const { rows } = await db.query<{ changedAt: Date; paused: boolean }>(
    'select changed_at as "changedAt", paused from schedule_state where schedule = $1',
    [schedule],
  );
  return rows[0];
}

/** Records on a run the slots its job scheduler skipped when it started late, and why. */
export async function recordSkippedSlots(
  db: Queryable,
  schedule: string,
  runId: string,
  skipped: { count: number; reason: string },
): Promise<void> {
  await db.query(
    'update runs set skipped_slots = $3, skipped_reason = $4 where schedule = $1 and run_id = $2',
    [schedule, runId, skipped.count, skipped.reason],
  );
}

/** A run's columns the failure policy and the versions add to its summary (run-history.ts's SUMMARY). */
export const POLICY_COLUMNS = `deadline_missed_at as "deadlineMissedAt", skipped_slots as "skippedSlots",
  skipped_reason as "skippedReason", spec_version as "specVersion", code_version as "codeVersion"`;

export interface PolicyColumns {
  deadlineMissedAt: Date | null;
  skippedSlots: number | null;
  skippedReason: SkipReason | null;
  specVersion: string | null;
  codeVersion: string | null;
}

export type PolicyFields = 'deadlineMissedAt' | 'skipped' | 'specVersion' | 'codeVersion';

/** A summary row's POLICY_COLUMNS as the run's fields, and the rest of the row. */
export function splitPolicyColumns<T extends PolicyColumns>(
  row: T,
): { rest: Omit<T, keyof PolicyColumns>; policy: Pick<RunSummary, PolicyFields> } {
  const { deadlineMissedAt, skippedSlots, skippedReason, specVersion, codeVersion, ...rest } = row;
  return {
    rest,
    policy: {
      deadlineMissedAt: deadlineMissedAt ? deadlineMissedAt.toISOString() : null,
      skipped: skippedSlots && skippedReason ? { slots: skippedSlots, reason: skippedReason } : null,
      specVersion,
      codeVersion,
    },
  };
}
