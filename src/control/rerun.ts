import { randomBytes } from 'node:crypto';
import { type FINISHED_STATES, isFinished, type SelectedRun } from '../db/run-actions';
import { type QueuedRun, recordQueuedRuns } from '../db/run-history';
import { isUnreachable } from '../health/unreachable';
import { runWindowOf, windowRunId } from '../queues/run-ids';
import { jobTemplateOf } from '../queues/scheduler-spec';
import { CATCHING_UP_PRIORITY } from '../queues/window-runs';
import type { RunWindow } from '../runtime/job';
import { JobParamsError } from '../runtime/job-registry';
import type { Schedule } from '../schedules/schedule';
import { recordChange } from './changes';
import type { Control } from './control';
import { ConflictError, InvalidInputError, ReadOnlyError } from './errors';
import { storedRun } from './runs';
import { scheduleInFile } from './trigger';
import type { RerunView } from './views';

export interface RerunRequest {
  by: string;
  /** Run with the schedules file's params (and job) as they are now, not the old run's. */
  currentParams?: boolean;
}

/** A finished run, as much as a re-run needs of it. */
type FinishedRun = Pick<SelectedRun, 'runId' | 'jobType' | 'params' | 'dueAt' | 'window'> & {
  state: (typeof FINISHED_STATES)[number];
};

/**
 * Re-runs a finished run (Airflow's "clear"): a new run of the same window, with the old run's job
 * and params (or, with `currentParams`, the file's), linked to it (`rerunOf`, trigger `rerun`). It is
 * read from PostgreSQL, so a run Redis trimmed long ago re-runs as well. The new run takes the
 * schedule's current run options (retries, timeout, overlap) and waits while it is paused. An
 * unfinished run is a ConflictError (cancel it first); params the job refuses, an InvalidInputError.
 */
export async function rerunRun(
  control: Control,
  name: string,
  runId: string,
  request: RerunRequest,
): Promise<RerunView> {
  if (control.readOnly) throw new ReadOnlyError();
  const stored = await storedRun(control, name, runId);
  const { summary } = stored;
  if (!isFinished(summary.state))
    throw new ConflictError(
      `run "${runId}" of ${name} is ${summary.state}: only a finished run (completed, failed or cancelled) can be re-run` +
        ' (cancel it first with `tickflow cancel`, or wait for it)',
    );
  const schedule = scheduleInFile(control, name);
  const run: FinishedRun = {
    runId,
    state: summary.state as FinishedRun['state'],
    jobType: summary.jobType,
    params: (stored.params ?? {}) as Record<string, unknown>,
    dueAt: new Date(summary.dueAt),
    window: summary.window ? { from: new Date(summary.window.from), to: new Date(summary.window.to) } : null,
  };
  const [view] = await queueReruns(control, schedule, [run], request);
  return view as RerunView;
}

/**
 * Queues one re-run per finished run, in one addBulk and one record: each checked first (job and
 * params), so a bad one queues none. The re-runs go behind the schedule's live runs, like a backfill.
 */
export async function queueReruns(
  control: Control,
  schedule: Schedule,
  runs: FinishedRun[],
  request: RerunRequest,
): Promise<RerunView[]> {
  const template = jobTemplateOf(schedule);
  const planned = runs.map((run) => {
    const jobType = request.currentParams ? schedule.job : run.jobType;
    const given = request.currentParams ? schedule.params : run.params;
    return {
      rerunOf: run.runId,
      jobType,
      params: paramsFor(control, jobType, given, run.runId),
      window: windowOf(run, schedule),
    };
  });
  const queue = control.queues.get(schedule.name);
  const withIds = planned.map((run) => ({
    ...run,
    runId: windowRunId('rerun', run.window, randomBytes(4).toString('hex')),
  }));
  const jobs = await queue.addBulk(
    withIds.map((run) => ({
      name: run.jobType,
      data: run.params,
      opts: { ...template.opts, priority: CATCHING_UP_PRIORITY, jobId: run.runId },
    })),
  );
  await control.queues.announce([schedule.name]);
  const queuedAt = jobs[0]?.timestamp ?? Date.now();
  const queued: QueuedRun[] = withIds.map((run) => ({
    runId: run.runId,
    jobType: run.jobType,
    trigger: 'rerun',
    triggeredBy: request.by,
    params: run.params,
    dueAt: new Date(queuedAt),
    window: run.window,
    rerunOf: run.rerunOf,
  }));
  // The runs are queued either way: PostgreSQL being away only delays their record (without the
  // link to the run they redo) until a worker starts them.
  await recordQueuedRuns(control.db, schedule.name, queued).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
  for (const run of withIds)
    await recordChange(control.db, {
      by: request.by,
      action: 'rerun',
      schedule: schedule.name,
      runId: run.runId,
      what: `re-ran run ${run.rerunOf} as ${run.runId}${request.currentParams ? " with the file's params" : ''}`,
      detail: { rerunOf: run.rerunOf, params: run.params, currentParams: request.currentParams ?? false },
    });
  const waitsForResume = await queue.isPaused();
  return withIds.map((run) => ({
    schedule: schedule.name,
    runId: run.runId,
    rerunOf: run.rerunOf,
    window: { from: run.window.from.toISOString(), to: run.window.to.toISOString() },
    jobType: run.jobType,
    params: run.params,
    waitsForResume,
  }));
}

/**
 * The old run's window; a run that never started and had none (a manual run cancelled in its
 * queue) gets the one it would have had: its cadence span ending at its due time.
 */
function windowOf(run: FinishedRun, schedule: Schedule): RunWindow {
  if (run.window) return run.window;
  return runWindowOf({ id: run.runId, timestamp: run.dueAt.getTime(), opts: {} }, run.dueAt, schedule);
}

function paramsFor(
  control: Control,
  jobType: string,
  params: Record<string, unknown>,
  runId: string,
): Record<string, unknown> {
  try {
    return control.jobs.resolve(jobType, params).params as Record<string, unknown>;
  } catch (error) {
    if (error instanceof JobParamsError)
      throw new InvalidInputError(
        `the params of run "${runId}" no longer fit job ${jobType} (re-run with currentParams for the file's)`,
        error.issues,
      );
    throw new InvalidInputError(`run "${runId}" cannot be re-run: ${(error as Error).message}`, [
      { field: 'jobType', message: (error as Error).message },
    ]);
  }
}
