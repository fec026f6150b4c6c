import { setRunNote } from '../db/run-actions';
import { recordChange } from './changes';
import type { Control } from './control';
import { ReadOnlyError } from './errors';
import { checkNote } from './mark-run';
import { storedRun } from './runs';
import type { RunSummary } from './views';

export interface NoteRunRequest {
  /** The note (at most 2,000 characters); empty clears it. */
  note: string;
  by: string;
}

/**
 * Leaves a note on a run, in any state, for the next shift (Airflow's note on a DAG run): its text,
 * who wrote it and when are shown with the run in the grid, the API and `tickflow runs`. A run has
 * one note: a new one replaces it, an empty one clears it.
 */
export async function noteRun(
  control: Control,
  name: string,
  runId: string,
  request: NoteRunRequest,
): Promise<RunSummary> {
  if (control.readOnly) throw new ReadOnlyError();
  checkNote(request.note);
  await storedRun(control, name, runId);
  const text = request.note.trim();
  await setRunNote(control.db, name, runId, { text: text === '' ? null : text, by: request.by });
  await recordChange(control.db, {
    by: request.by,
    action: 'note',
    schedule: name,
    runId,
    what: text === '' ? `cleared the note of run ${runId}` : `noted run ${runId}: ${text}`,
    detail: { note: text === '' ? null : text },
  });
  return (await storedRun(control, name, runId)).summary;
}
