import { FINISHED_STATES, type SelectedRun, selectRuns, UNFINISHED_STATES } from '../db/run-actions';
import type { RunWindow } from '../runtime/job';
import { cancelUnfinished } from './cancel-run';
import type { Control } from './control';
import { ConflictError, InvalidInputError, ReadOnlyError } from './errors';
import { queueReruns } from './rerun';
import { requireSchedule } from './schedules';
import { scheduleInFile } from './trigger';
import type { BulkAction, BulkView, RunState } from './views';

/** At most this many runs per bulk action: a wider filter is narrowed by its window range. */
export const MAX_BULK_RUNS = 1_000;

export interface BulkRequest {
  action: BulkAction;
  /** Which runs: these states (default: failed for a re-run; every unfinished one for a cancel). */
  states?: RunState[];
  /** Runs whose window lies in [from, to]. */
  from?: Date;
  to?: Date;
  /** Count and list the runs, do nothing. */
  dryRun?: boolean;
  /**
   * The count the caller was shown (a dry run's `matched`): when the filter now takes another
   * number of runs, nothing is done (ConflictError), so what is done is what was confirmed.
   */
  expect?: number;
  /** rerun: with the file's params, not each run's own. */
  currentParams?: boolean;
  by: string;
}

/** Which states each action may take, and which it takes unless told. */
const ALLOWED: Record<BulkAction, { states: readonly RunState[]; default: readonly RunState[] }> = {
  rerun: { states: FINISHED_STATES, default: ['failed'] },
  cancel: { states: UNFINISHED_STATES, default: UNFINISHED_STATES },
};

/**
 * Re-runs or cancels every run of a schedule that a filter takes (states, and a window range), at
 * most 1,000, oldest first. A dry run counts and lists them; the action itself can be held to the
 * count the caller saw (`expect`). A re-run queues one new run per run (see rerunRun); a cancel
 * cancels each one as cancelRun does, without waiting for running ones to end.
 */
export async function bulkRuns(control: Control, name: string, request: BulkRequest): Promise<BulkView> {
  if (control.readOnly && !request.dryRun) throw new ReadOnlyError();
  const allowed = ALLOWED[request.action];
  const states = request.states?.length ? request.states : allowed.default;
  const wrong = states.filter((state) => !allowed.states.includes(state));
  if (wrong.length)
    throw new InvalidInputError(`cannot ${request.action} runs in state ${wrong.join(', ')}`, [
      {
        field: 'state',
        message: `${request.action} takes runs in ${allowed.states.join(', ')} (got ${wrong.join(', ')})`,
      },
    ]);
  if (request.from && request.to && request.from >= request.to)
    throw new InvalidInputError('empty window range', [{ field: 'to', message: 'must be after from' }]);
  await requireSchedule(control, name, { removedToo: request.dryRun ?? false });

  const runs = await selectRuns(
    control.db,
    name,
    {
      states,
      ...(request.from ? { from: request.from } : {}),
      ...(request.to ? { to: request.to } : {}),
    },
    MAX_BULK_RUNS + 1,
  );
  if (runs.length > MAX_BULK_RUNS)
    throw new InvalidInputError(`the filter takes more than ${MAX_BULK_RUNS} runs`, [
      { field: 'from', message: `narrow the window range (from, to) to at most ${MAX_BULK_RUNS} runs` },
    ]);
  if (request.expect !== undefined && request.expect !== runs.length)
    throw new ConflictError(
      `the filter now takes ${runs.length} run(s) of ${name}, not the ${request.expect} expected: nothing was done; count them again (dry run)`,
    );
  const view = (done: Partial<Pick<BulkView['runs'][number], 'rerunId' | 'outcome'>>[] = []): BulkView => ({
    schedule: name,
    action: request.action,
    dryRun: request.dryRun ?? false,
    matched: runs.length,
    runs: runs.map((run, i) => ({
      runId: run.runId,
      state: run.state,
      window: windowView(run.window),
      rerunId: done[i]?.rerunId ?? null,
      outcome: done[i]?.outcome ?? null,
    })),
  });
  if (request.dryRun || runs.length === 0) return view();

  if (request.action === 'rerun') {
    const schedule = scheduleInFile(control, name);
    const reruns = await queueReruns(control, schedule, runs as FinishedSelected[], {
      by: request.by,
      ...(request.currentParams ? { currentParams: true } : {}),
    });
    return view(reruns.map((rerun) => ({ rerunId: rerun.runId })));
  }
  const done = [];
  for (const run of runs) {
    const cancelled = await cancelUnfinished(control, name, run.runId, run.state, {
      by: request.by,
      waitMs: 0,
    })
      // A run that finished meanwhile is left as it ended.
      .catch((error: unknown) => {
        if (error instanceof ConflictError) return undefined;
        throw error;
      });
    done.push(cancelled ? { outcome: cancelled.outcome } : {});
  }
  return view(done);
}

type FinishedSelected = SelectedRun & { state: (typeof FINISHED_STATES)[number] };

const windowView = (window: RunWindow | null) =>
  window ? { from: window.from.toISOString(), to: window.to.toISOString() } : null;
