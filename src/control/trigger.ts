import { randomUUID } from 'node:crypto';
import { type QueuedRun, recordQueuedRuns } from '../db/run-history';
import { isUnreachable } from '../health/unreachable';
import { MANUAL_RUN_PREFIX } from '../queues/run-ids';
import { jobTemplateOf } from '../queues/scheduler-spec';
import { JobParamsError, type JobRegistry } from '../runtime/job-registry';
import type { Schedule } from '../schedules/schedule';
import type { Control } from './control';
import { InvalidInputError, ReadOnlyError, unknownSchedule } from './errors';
import type { TriggeredRun } from './views';

export interface TriggerRequest {
  /** Params over the schedule's own, checked by the job's schema. */
  params?: Record<string, unknown>;
  by: string;
}

/**
 * Runs a schedule's job now (Airflow's `dags trigger --conf`): the file's current params with the
 * overrides on top, validated by the job's schema; the run obeys the schedule's overlap, retries
 * and timeout, and waits while the schedule is paused. Every manual run comes through here.
 */
export async function triggerRun(
  control: Control,
  name: string,
  request: TriggerRequest,
): Promise<TriggeredRun> {
  if (control.readOnly) throw new ReadOnlyError();
  const schedule = scheduleInFile(control, name);
  const params = paramsFor(control.jobs, schedule.job, { ...schedule.params, ...request.params });
  const template = jobTemplateOf(schedule);
  const queue = control.queues.get(name);
  const job = await queue.add(template.name, params, {
    ...template.opts,
    jobId: `${MANUAL_RUN_PREFIX}${randomUUID()}`,
  });
  const runId = String(job.id);
  // After the add: a worker may already have recorded the run, and only who triggered it is ours to
  // add. The run is queued either way: PostgreSQL being away must not make a caller trigger it twice
  // (the worker records the run when it starts, without the name of who triggered it).
  const queued: QueuedRun = {
    runId,
    jobType: schedule.job,
    trigger: 'manual',
    triggeredBy: request.by,
    params,
    dueAt: new Date(job.timestamp),
  };
  await recordQueuedRuns(control.db, name, [queued]).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
  return { schedule: name, runId, params, waitsForResume: await queue.isPaused() };
}

/** The schedule as the current file has it; a name not in it is a NotFoundError listing those that are. */
export function scheduleInFile(control: Control, name: string): Schedule {
  const schedules = control.file().current?.schedules ?? [];
  const schedule = schedules.find((s) => s.name === name);
  if (!schedule)
    throw unknownSchedule(
      name,
      schedules.map((s) => s.name),
    );
  return schedule;
}

function paramsFor(jobs: JobRegistry, job: string, params: Record<string, unknown>): Record<string, unknown> {
  try {
    return jobs.resolve(job, params).params;
  } catch (error) {
    if (error instanceof JobParamsError)
      throw new InvalidInputError(`params do not fit job ${job}`, error.issues);
    throw error;
  }
}
