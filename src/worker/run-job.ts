import os from 'node:os';
import { type Job, UnrecoverableError } from 'bullmq';
import { resolveJob } from '../../jobs/index';
import type { JobDefinition, JobResult } from '../../jobs/job';
import type { Logger } from '../log/logger';
import type { Resources } from '../runtime/resources';
import { formatDuration } from '../schedules/duration';
import { SCHEDULE_DEFAULTS } from '../schedules/schedule';
import type { JobRunsLog, RunAttempt, RunOutcome } from './job-runs';
import { createRunLogger } from './run-log';
import { withTimeout } from './timeout';

export const WORKER_NAME = `${os.hostname()}:${process.pid}`;

export interface RunDependencies {
  resources: Resources;
  runs: JobRunsLog;
  log: Logger;
  /** The schedule's current timeout; it may change with the file while the worker runs. */
  timeoutOf(schedule: string): number | undefined;
}

/**
 * Runs one attempt of a BullMQ job: finds the job type, validates the params again (the file was
 * validated, but a job may come from elsewhere or outlive an edit), runs it under its timeout and
 * records the attempt in job_runs and in the job's own log.
 */
export async function runJob(job: Job, deps: RunDependencies, signal?: AbortSignal): Promise<JobResult> {
  const schedule = job.queueName;
  const attempt: RunAttempt = {
    schedule,
    jobId: String(job.id),
    attempt: job.attemptsStarted,
    jobType: job.name,
    params: job.data,
    scheduledAt: scheduledAt(job),
    startedAt: new Date(),
    worker: WORKER_NAME,
  };
  const log = deps.log.child({ schedule, runId: attempt.jobId, attempt: attempt.attempt });
  await record(log, () => deps.runs.started(attempt));
  const runLog = createRunLogger(log, (line) => job.log(line));
  const timeout = deps.timeoutOf(schedule) ?? SCHEDULE_DEFAULTS.timeout;
  try {
    await job.log(startLine(attempt, timeout));
    const { definition, params } = resolveRun(job);
    const result = await withTimeout(timeout, signal, (runSignal) =>
      definition.run(
        {
          signal: runSignal,
          log: runLog.log,
          resources: deps.resources,
          schedule,
          runId: attempt.jobId,
          attempt: attempt.attempt,
        },
        params,
      ),
    );
    await finish(job, deps, attempt, runLog.flush, { state: 'completed', result });
    return result;
  } catch (error) {
    runLog.log.error({ err: error }, `attempt ${attempt.attempt} failed: ${(error as Error).message}`);
    await finish(job, deps, attempt, runLog.flush, { state: 'failed', error: (error as Error).message });
    throw error;
  }
}

/** The job type and its validated params; neither can get better on a retry, so failing is final. */
function resolveRun(job: Job): { definition: JobDefinition; params: unknown } {
  try {
    return resolveJob(job.name, job.data);
  } catch (error) {
    throw new UnrecoverableError((error as Error).message);
  }
}

async function finish(
  job: Job,
  deps: RunDependencies,
  attempt: RunAttempt,
  flush: () => Promise<void>,
  outcome: RunOutcome,
): Promise<void> {
  await flush();
  const ms = Date.now() - attempt.startedAt.getTime();
  if (outcome.state === 'completed') await job.log(`attempt ${attempt.attempt} completed in ${ms}ms`);
  await record(deps.log, () => deps.runs.finished(attempt, outcome));
}

/** History must not decide a run's fate: a PostgreSQL hiccup is logged, the run goes on. */
async function record(log: Logger, write: () => Promise<void>): Promise<void> {
  try {
    await write();
  } catch (error) {
    log.warn({ err: error }, 'could not record the run in job_runs');
  }
}

function startLine(attempt: RunAttempt, timeout: number): string {
  const late = attempt.scheduledAt
    ? `, ${attempt.startedAt.getTime() - attempt.scheduledAt.getTime()}ms after its time`
    : '';
  return `attempt ${attempt.attempt} of ${attempt.jobType} started on ${attempt.worker}${late} (timeout ${formatDuration(timeout)})`;
}

/** A job scheduler names each run `repeat:<schedule>:<due time in ms>`; other jobs are due when added. */
export function scheduledAt(job: Job): Date {
  const due = job.repeatJobKey ? /:(\d+)$/.exec(String(job.id))?.[1] : undefined;
  return new Date(due ? Number(due) : job.timestamp + (job.opts.delay ?? 0));
}
