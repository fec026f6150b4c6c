import { randomUUID } from 'node:crypto';
import { JobParamsError, resolveJob } from '../../jobs/index';
import { isUnreachable } from '../health/unreachable';
import { schedulerSpecOf } from '../scheduler/scheduler-spec';
import { MANUAL_RUN_PREFIX } from '../worker/job-runs';
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
  const file = control.file();
  const schedule = file.current?.schedules.find((s) => s.name === name);
  if (!schedule) throw unknownSchedule(name, file.current?.schedules.map((s) => s.name) ?? []);
  const params = paramsFor(schedule.job, { ...schedule.params, ...request.params });
  const { template } = schedulerSpecOf(schedule);
  const queue = control.queues.get(name);
  const job = await queue.add(template.name, params, {
    ...template.opts,
    jobId: `${MANUAL_RUN_PREFIX}${randomUUID()}`,
  });
  const runId = String(job.id);
  // After the add: a worker may already have recorded the run, and only who triggered it is ours to
  // add. The run is queued either way: PostgreSQL being away must not make a caller trigger it twice
  // (the worker records the run when it starts, without the name of who triggered it).
  await control.db
    .query(
      `insert into runs (schedule, run_id, job_type, state, trigger, triggered_by, params, due_at)
     values ($1, $2, $3, 'queued', 'manual', $4, $5, to_timestamp($6 / 1000.0))
     on conflict (schedule, run_id) do update set triggered_by = excluded.triggered_by`,
      [name, runId, schedule.job, request.by, JSON.stringify(params), job.timestamp],
    )
    .catch((error: unknown) => {
      if (!isUnreachable(error)) throw error;
    });
  return { schedule: name, runId, params, waitsForResume: await queue.isPaused() };
}

function paramsFor(job: string, params: Record<string, unknown>): Record<string, unknown> {
  try {
    return resolveJob(job, params).params;
  } catch (error) {
    if (error instanceof JobParamsError)
      throw new InvalidInputError(`params do not fit job ${job}`, error.issues);
    throw error;
  }
}
