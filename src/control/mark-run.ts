import { isFinished, MAX_NOTE_LENGTH, markRunState } from '../db/run-actions';

export { MAX_NOTE_LENGTH } from '../db/run-actions';

import { recordChange } from './changes';
import type { Control } from './control';
import { ConflictError, InvalidInputError, ReadOnlyError } from './errors';
import { storedRun } from './runs';
import type { RunSummary } from './views';

/** The states a run can be marked in by hand. */
export const MARK_STATES = ['completed', 'failed'] as const;
export type MarkState = (typeof MARK_STATES)[number];

export interface MarkRunRequest {
  state: MarkState;
  /** Why, kept on the run as its note. */
  note?: string;
  by: string;
}

/**
 * Marks a finished run completed or failed by hand (Airflow's "mark success/failed"): the state it
 * had, who marked it and when are kept with it (`marked`), and a note with the mark becomes the
 * run's note. What reads the history follows the mark: a window whose run is marked completed is
 * done for a backfill's `--reprocess missing`, and the failing streak behind notifications counts
 * it as such. An unfinished run (cancel it, or wait) and a run already in that state are a
 * ConflictError naming its state.
 */
export async function markRun(
  control: Control,
  name: string,
  runId: string,
  request: MarkRunRequest,
): Promise<RunSummary> {
  if (control.readOnly) throw new ReadOnlyError();
  checkNote(request.note);
  const before = (await storedRun(control, name, runId)).summary;
  const refused = () => {
    const state = before.state;
    if (state === request.state)
      return new ConflictError(`run "${runId}" of ${name} is already ${state}: nothing to mark`);
    return new ConflictError(
      `run "${runId}" of ${name} is ${state}: only a finished run (completed, failed or cancelled) can be marked` +
        ' (cancel it first, or wait for it to finish)',
    );
  };
  if (!isFinished(before.state) || before.state === request.state) throw refused();
  const marked = await markRunState(control.db, name, runId, {
    state: request.state,
    by: request.by,
    ...(request.note ? { note: request.note } : {}),
  });
  const after = (await storedRun(control, name, runId)).summary;
  // Changed meanwhile (a re-check of the state in the update itself): say what it is now.
  if (!marked && after.state !== request.state) throw refused();
  if (marked)
    await recordChange(control.db, {
      by: request.by,
      action: 'mark',
      schedule: name,
      runId,
      what: `marked run ${runId} ${request.state} (was ${before.state})${request.note ? `: ${request.note}` : ''}`,
      detail: { from: before.state, to: request.state, ...(request.note ? { note: request.note } : {}) },
    });
  return after;
}

/** A note's length is checked here as the table checks it, naming the field. */
export function checkNote(note: string | undefined | null): void {
  if (note && note.length > MAX_NOTE_LENGTH)
    throw new InvalidInputError('note too long', [
      { field: 'note', message: `at most ${MAX_NOTE_LENGTH} characters (got ${note.length})` },
    ]);
}
