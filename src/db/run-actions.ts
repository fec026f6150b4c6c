import type { RunWindow } from '../runtime/job';
import type { Queryable } from './pool';
import type { RunState } from './run-states';
import type { RunSummary } from './run-views';

/**
 * What people do to runs, as the `runs` table keeps it (migration 010): a cancel (cancelled_by), a
 * mark (the state set by hand: marked_from, marked_by, marked_at), a note (note, noted_by,
 * noted_at) and a re-run's link to the run it redoes (rerun_of). Each write is one statement whose
 * condition is the rule it keeps (a running run cannot be marked, a finished one not cancelled), so
 * a run that changed meanwhile is not overwritten: the caller reads again and says why.
 */

/** The states a run ends in: it can be re-run, marked and no longer cancelled. */
export const FINISHED_STATES = ['completed', 'failed', 'cancelled'] as const satisfies readonly RunState[];
/** The states a run waits or runs in: it can be cancelled, not re-run nor marked. */
export const UNFINISHED_STATES = [
  'waiting',
  'queued',
  'active',
  'retrying',
] as const satisfies readonly RunState[];

export const isFinished = (state: RunState) => (FINISHED_STATES as readonly RunState[]).includes(state);

/** The longest note a run takes (the table checks it too). */
export const MAX_NOTE_LENGTH = 2_000;

/** The action columns of a runs row, as run-history's summary query names them. */
export interface ActionColumns {
  markedFrom: RunState | null;
  markedBy: string | null;
  markedAt: Date | null;
  note: string | null;
  notedBy: string | null;
  notedAt: Date | null;
}

/** A summary's `marked` and `note` from the row's columns. */
export function actionsOf(row: ActionColumns): Pick<RunSummary, 'marked' | 'note'> {
  return {
    marked:
      row.markedFrom && row.markedAt
        ? { from: row.markedFrom, by: row.markedBy ?? 'unknown', at: row.markedAt.toISOString() }
        : null,
    note:
      row.note !== null && row.notedAt
        ? { text: row.note, by: row.notedBy ?? 'unknown', at: row.notedAt.toISOString() }
        : null,
  };
}

/** The row without the action columns actionsOf reads. */
export function withoutActionColumns<T extends ActionColumns>(row: T): Omit<T, keyof ActionColumns> {
  const { markedFrom, markedBy, markedAt, note, notedBy, notedAt, ...rest } = row;
  return rest;
}

/**
 * Records a run cancelled (by `by`, saying why) unless it finished meanwhile: a run that left the
 * queue before it ran, or one no worker holds. True when recorded.
 */
export async function recordRunCancelled(
  db: Queryable,
  schedule: string,
  runId: string,
  cancel: { by: string; why: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update runs set state = 'cancelled', finished_at = now(), error = $3, cancelled_by = $4
      where schedule = $1 and run_id = $2 and state = any($5::text[])`,
    [schedule, runId, cancel.why, cancel.by, UNFINISHED_STATES],
  );
  return (rowCount ?? 0) > 0;
}

/**
 * Marks a finished run `state` by hand, with an optional note, unless it is unfinished or already in
 * that state. True when marked. The first mark's `marked_from` is kept: it says what the run did.
 */
export async function markRunState(
  db: Queryable,
  schedule: string,
  runId: string,
  mark: { state: 'completed' | 'failed'; by: string; note?: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update runs set state = $3, marked_from = coalesce(marked_from, state), marked_by = $4, marked_at = now(),
            note = coalesce($5, note), noted_by = case when $5::text is null then noted_by else $4 end,
            noted_at = case when $5::text is null then noted_at else now() end
      where schedule = $1 and run_id = $2 and state = any($6::text[]) and state <> $3`,
    [schedule, runId, mark.state, mark.by, mark.note ?? null, FINISHED_STATES],
  );
  return (rowCount ?? 0) > 0;
}

/** Sets (or with null, clears) a run's note, whatever its state. True when the run exists. */
export async function setRunNote(
  db: Queryable,
  schedule: string,
  runId: string,
  note: { text: string | null; by: string },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update runs set note = $3, noted_by = case when $3::text is null then null else $4 end,
            noted_at = case when $3::text is null then null else now() end
      where schedule = $1 and run_id = $2`,
    [schedule, runId, note.text, note.by],
  );
  return (rowCount ?? 0) > 0;
}

/** The re-runs of a run, newest first (runs_reruns). */
export async function rerunsOf(db: Queryable, schedule: string, runId: string): Promise<string[]> {
  const { rows } = await db.query<{ runId: string }>(
    `select run_id as "runId" from runs where schedule = $1 and rerun_of = $2 order by due_at desc limit 100`,
    [schedule, runId],
  );
  return rows.map((row) => row.runId);
}

/** Which runs a bulk action takes: states, and optionally a range their window lies in. */
export interface RunSelection {
  states: readonly RunState[];
  /** The run's window starts at or after this (runs without a window are then left out). */
  from?: Date;
  /** The run's window ends at or before this. */
  to?: Date;
}

/** What a bulk action needs of each run it takes. */
export interface SelectedRun {
  runId: string;
  state: RunState;
  jobType: string;
  params: Record<string, unknown>;
  dueAt: Date;
  window: RunWindow | null;
}

/**
 * The runs of a schedule in `states` (with a window inside [from, to] when given), oldest first, at
 * most `limit`. Follows runs_by_state; a run is never due before its window ends, so `from` bounds
 * the due times scanned too.
 */
export async function selectRuns(
  db: Queryable,
  schedule: string,
  selection: RunSelection,
  limit: number,
): Promise<SelectedRun[]> {
  const { rows } = await db.query<Omit<SelectedRun, 'window'> & { from: Date | null; to: Date | null }>(
    `select run_id as "runId", state, job_type as "jobType", params, due_at as "dueAt",
            window_from as "from", window_to as "to"
       from runs
      where schedule = $1 and state = any($2::text[])
        and ($3::timestamptz is null or (due_at >= $3 and window_from >= $3))
        and ($4::timestamptz is null or window_to <= $4)
      order by due_at, run_id limit $5`,
    [schedule, selection.states, selection.from ?? null, selection.to ?? null, limit],
  );
  return rows.map(({ from, to, ...run }) => ({ ...run, window: from && to ? { from, to } : null }));
}
