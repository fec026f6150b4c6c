import { backfillRunStates, recordCancelledRuns } from '../db/run-history';
import { backfillBatchOf } from '../queues/run-ids';
import { recordChange } from './changes';
import type { Control } from './control';
import { NotFoundError, ReadOnlyError } from './errors';
import { scheduleInFile } from './trigger';
import type { CancelledBackfill } from './views';

/** A backfill's id: the batch part of its run ids (8 hex characters; see backfill). */
const BACKFILL_ID = /^[0-9a-f]{8}$/;

export interface CancelBackfillRequest {
  /** The backfill's id, as `tickflow backfill` printed it and the API returned it. */
  id: string;
  by: string;
}

/**
 * Cancels a backfill: its runs that have not started (waiting, prioritized, or delayed between
 * attempts) leave the queue and are recorded as cancelled, saying by whom; a run already started
 * runs to completion. A run a worker takes while this runs is not removed (BullMQ refuses to remove
 * a locked job) and counts as started. Cancelling again drops nothing more and says so.
 */
export async function cancelBackfill(
  control: Control,
  name: string,
  request: CancelBackfillRequest,
): Promise<CancelledBackfill> {
  if (control.readOnly) throw new ReadOnlyError();
  scheduleInFile(control, name);
  const { id } = request;
  const notFound = () =>
    new NotFoundError(
      `no backfill "${id}" of ${name}: no run of it has that id (the id \`tickflow backfill\` printed, 8 hex characters)`,
    );
  if (!BACKFILL_ID.test(id)) throw notFound();

  const queue = control.queues.get(name);
  const pending = (await queue.getJobs(['waiting', 'prioritized', 'delayed'])).filter(
    (job) => job?.id !== undefined && backfillBatchOf(job.id) === id,
  );
  // 1: removed; 0: a worker holds it now (started).
  const removed = await Promise.all(pending.map((job) => queue.remove(String(job.id))));
  const dropped = pending.filter((_, i) => removed[i] === 1).map((job) => String(job.id));
  await recordCancelledRuns(control.db, name, dropped, `backfill ${id} cancelled by ${request.by}`);

  const states = await backfillRunStates(control.db, name, id);
  if (dropped.length === 0 && Object.keys(states).length === 0) throw notFound();
  await recordChange(control.db, {
    by: request.by,
    action: 'backfill-cancel',
    schedule: name,
    what: `backfill ${id} cancelled: ${dropped.length} run${dropped.length === 1 ? '' : 's'} not started dropped`,
    detail: { id, dropped: dropped.length },
  });
  const count = (...of: (keyof typeof states)[]) => of.reduce((sum, state) => sum + (states[state] ?? 0), 0);
  return {
    schedule: name,
    id,
    dropped: dropped.length,
    started: count('active', 'retrying', 'completed', 'failed'),
    running: count('active', 'retrying'),
  };
}
