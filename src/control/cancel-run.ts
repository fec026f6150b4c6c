import { setTimeout as sleep } from 'node:timers/promises';
import { isFinished, recordRunCancelled } from '../db/run-actions';
import { forgetCancel, requestCancel } from '../queues/run-cancel';
import { recordChange } from './changes';
import type { Control } from './control';
import { ConflictError, ReadOnlyError } from './errors';
import { storedRun } from './runs';
import type { CancelledRun, RunState } from './views';

export interface CancelRunRequest {
  /** Who cancels: cli:<user>, api:<user>, grid:<user>, bull-board:<user>. */
  by: string;
  /**
   * How long to wait for a running run to end cancelled (the worker holding it records it); 0 to
   * answer at once (a bulk cancel). Default 5 s.
   */
  waitMs?: number;
}

const WAIT_MS = 5_000;
const POLL_MS = 50;

/** BullMQ job states a run has not started in: it can leave the queue. */
const NOT_STARTED = new Set(['waiting', 'prioritized', 'delayed', 'paused', 'wait']);

/**
 * Cancels a run that waits or runs, wherever it is (Airflow's "mark failed" of a running task, but
 * recorded as cancelled and never retried):
 * - queued, waiting between attempts, or delayed: it leaves the queue and is recorded cancelled;
 * - running on any worker process: the worker holding it aborts its signal (see
 *   queues/run-cancel.ts) and records it cancelled, by `by`; BullMQ does not retry it. This waits
 *   for that record (up to `waitMs`), so the answer says how the run ended;
 * - waiting for its data (a watermark), or gone from Redis: it is recorded cancelled.
 * A finished run (completed, failed, cancelled) is a ConflictError naming its state.
 */
export async function cancelRun(
  control: Control,
  name: string,
  runId: string,
  request: CancelRunRequest,
): Promise<CancelledRun> {
  if (control.readOnly) throw new ReadOnlyError();
  const stored = await storedRun(control, name, runId);
  const was = stored.summary.state;
  if (isFinished(was)) throw finishedAlready(name, runId, was);
  return cancelUnfinished(control, name, runId, was, request);
}

/**
 * Cancels the run if the history has it unfinished; undefined (nothing done) for a run it has
 * finished or does not know (Bull Board's remove: its own handler removes those from Redis).
 */
export async function cancelIfUnfinished(
  control: Control,
  name: string,
  runId: string,
  request: CancelRunRequest,
): Promise<CancelledRun | undefined> {
  if (control.readOnly) throw new ReadOnlyError();
  const was = await currentState(control, name, runId);
  if (!was || isFinished(was)) return undefined;
  return cancelUnfinished(control, name, runId, was, request);
}

/** cancelRun once the run is known unfinished (a bulk cancel selected it so). */
export async function cancelUnfinished(
  control: Control,
  name: string,
  runId: string,
  was: RunState,
  request: CancelRunRequest,
): Promise<CancelledRun> {
  const done = await cancelled(control, name, runId, was, request);
  await recordChange(control.db, {
    by: request.by,
    action: 'cancel',
    schedule: name,
    runId,
    what: `cancelled run ${runId} (was ${was}): ${CANCELLED_HOW[done.outcome]}`,
    detail: { was, outcome: done.outcome },
  });
  return done;
}

/** The audit log's words for each outcome. */
const CANCELLED_HOW: Record<CancelledRun['outcome'], string> = {
  removed: 'removed from the queue',
  aborted: 'aborted on its worker',
  recorded: 'no queue held it',
  requested: 'its worker was asked to abort it',
};

async function cancelled(
  control: Control,
  name: string,
  runId: string,
  was: RunState,
  request: CancelRunRequest,
): Promise<CancelledRun> {
  const { by } = request;
  const answer = (state: RunState, outcome: CancelledRun['outcome']): CancelledRun => ({
    schedule: name,
    runId,
    was,
    state,
    outcome,
    by,
  });
  const queue = control.queues.get(name);
  const { connection, prefix } = control.queues;
  const job = await queue.getJob(runId);
  const jobState = job ? await job.getState() : 'unknown';

  if (NOT_STARTED.has(jobState) && (await removed(queue, runId))) {
    const why =
      was === 'retrying' ? `cancelled by ${by} between attempts` : `cancelled by ${by} before it ran`;
    await recordRunCancelled(control.db, name, runId, { by, why });
    return answer('cancelled', 'removed');
  }
  if (jobState === 'unknown') {
    // No queue holds it: it waits for its data, or Redis lost it. Nothing can run it now.
    const why = was === 'waiting' ? `cancelled by ${by} while waiting for its data` : `cancelled by ${by}`;
    if (await recordRunCancelled(control.db, name, runId, { by, why }))
      return answer('cancelled', 'recorded');
    return answerNow(control, name, runId, was, by);
  }
  if (jobState === 'completed' || jobState === 'failed') {
    // It ended just now (its record may trail by a moment): nothing is left to cancel.
    const now = await currentState(control, name, runId);
    throw finishedAlready(name, runId, now && isFinished(now) ? now : jobState);
  }

  // Running (or being taken, or the job scheduler's own run, which BullMQ will not remove): the
  // worker that holds it, or takes it, aborts it.
  await requestCancel(connection, prefix, { schedule: name, runId, by });
  const deadline = Date.now() + (request.waitMs ?? WAIT_MS);
  for (;;) {
    const state = await currentState(control, name, runId);
    if (state === 'cancelled') return answer('cancelled', 'aborted');
    if (state && isFinished(state)) {
      // It ended before the cancel reached it.
      await forgetCancel(connection, prefix, name, runId).catch(() => undefined);
      throw finishedAlready(name, runId, state, ' before the cancel reached it');
    }
    if (Date.now() >= deadline) return answer(state ?? was, 'requested');
    await sleep(POLL_MS);
  }
}

/** A run whose record changed under the cancel: answered by what it says now. */
async function answerNow(
  control: Control,
  name: string,
  runId: string,
  was: RunState,
  by: string,
): Promise<CancelledRun> {
  const now = await currentState(control, name, runId);
  if (now === 'cancelled') return { schedule: name, runId, was, state: now, outcome: 'recorded', by };
  throw finishedAlready(name, runId, now ?? was);
}

/** Removes a job that has not started; false when a worker took it meanwhile (or BullMQ refuses). */
async function removed(queue: ReturnType<Control['queues']['get']>, runId: string): Promise<boolean> {
  try {
    return (await queue.remove(runId)) === 1;
  } catch {
    // The job scheduler's next run cannot be removed: the worker that takes it cancels it at once.
    return false;
  }
}

async function currentState(control: Control, name: string, runId: string): Promise<RunState | undefined> {
  const { rows } = await control.db.query<{ state: RunState }>(
    'select state from runs where schedule = $1 and run_id = $2',
    [name, runId],
  );
  return rows[0]?.state;
}

function finishedAlready(name: string, runId: string, state: string, when = ''): ConflictError {
  return new ConflictError(
    `run "${runId}" of ${name} is ${state}${when}: only a waiting, queued or running run can be cancelled` +
      (state === 'cancelled' ? '' : ` (re-run it with \`tickflow rerun ${name} ${runId}\`)`),
  );
}
