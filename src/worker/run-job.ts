import os from 'node:os';
import { type Job, UnrecoverableError } from 'bullmq';
import { failedStreak } from '../db/run-policy';
import type { Logger } from '../log/logger';
import { type FailureNotifier, shouldNotify } from '../notify/failure-notifier';
import { splitUpstream } from '../queues/after-runs';
import { CancelledError } from '../queues/run-cancel';
import { runWindowOf, scheduledAt } from '../queues/run-ids';
import type { JobDefinition, JobResult, UpstreamRun } from '../runtime/job';
import { jobContext } from '../runtime/job-context';
import type { JobRegistry } from '../runtime/job-registry';
import type { Resources } from '../runtime/resources';
import { formatDuration } from '../schedules/duration';
import { SCHEDULE_DEFAULTS, type Schedule } from '../schedules/schedule';
import { type RunFacts, tracing } from '../telemetry/tracing';
import type { FailurePolicy, PolicyAttempt } from './failure-policy';
import type { AttemptEnd, RunAttempt } from './job-runs';
import type { RunFinished, RunStarted } from './run-events';
import type { RunHistory } from './run-history';
import { createRunLogger, type RunLogger } from './run-log';
import { runVersions } from './run-versions';
import { withTimeout } from './timeout';

export const WORKER_NAME = `${os.hostname()}:${process.pid}`;

/** Errors runJob threw after recording the attempt: BullMQ's `failed` event needs no second record. */
export const recordedFailures = new WeakSet<object>();

export interface RunDependencies {
  resources: Resources;
  /** The job types this process runs. */
  jobs: JobRegistry;
  runs: RunHistory;
  log: Logger;
  notifier: FailureNotifier;
  /** The schedule as the file says now (timeout, notify); it may change while the worker runs. */
  scheduleOf(schedule: string): Schedule | undefined;
  /**
   * Told of a completed run before it is recorded as completed: the schedules that run `after:` it
   * are queued there (see queueDownstream).
   */
  completed?(run: UpstreamRun): Promise<void>;
  /** The schedule's failure policy (pauseAfter, deadline, recovery notices, skipped slots). */
  policy?: FailurePolicy;
  /** Told of each attempt once its start, then its end, is recorded (the WorkerPool's events). */
  events?: {
    started(run: RunStarted): void;
    finished(run: RunFinished): void;
  };
}

/**
 * Runs one attempt of a BullMQ job: finds the job type, validates the params again (the file was
 * validated, but a job may come from elsewhere or outlive an edit), runs it under its timeout and
 * records the attempt in job_runs and in the job's own log. With traces on, the attempt is a span
 * (src/telemetry) and what the job does under it (Kafka, PostgreSQL) its children.
 */
export async function runJob(job: Job, deps: RunDependencies, signal?: AbortSignal): Promise<JobResult> {
  const traces = tracing();
  if (!traces) return runAttempt(job, deps, signal);
  return traces.run(
    runFacts(job, deps),
    () => runAttempt(job, deps, signal),
    (error) => (cancelledRuns.has(error as object) ? 'cancelled' : 'failed'),
  );
}

/** What a run's span says of it: the same identity and window as the attempt records. */
function runFacts(job: Job, deps: RunDependencies): RunFacts {
  const due = scheduledAt(job);
  return {
    schedule: job.queueName,
    runId: String(job.id),
    attempt: job.attemptsStarted,
    jobType: job.name,
    window: runWindowOf(job, due, deps.scheduleOf(job.queueName)),
    scheduledAt: due,
  };
}

async function runAttempt(job: Job, deps: RunDependencies, signal?: AbortSignal): Promise<JobResult> {
  const schedule = job.queueName;
  const due = scheduledAt(job);
  const window = runWindowOf(job, due, deps.scheduleOf(schedule));
  const { params: data, upstream } = splitUpstream(job.data);
  const attempt: RunAttempt = {
    schedule,
    jobId: String(job.id),
    attempt: job.attemptsStarted,
    jobType: job.name,
    params: data,
    scheduledAt: due,
    startedAt: new Date(),
    worker: WORKER_NAME,
    windowFrom: window.from,
    windowTo: window.to,
    ...(await runVersions(deps.resources.db, job, deps.scheduleOf(schedule))),
  };
  const log = deps.log.child({ schedule, runId: attempt.jobId, attempt: attempt.attempt });
  await deps.runs.write({ op: 'started', run: attempt });
  const policed = policyAttempt(job, attempt);
  deps.policy?.started(policed, deps.scheduleOf(schedule));
  const about = aboutAttempt(attempt);
  deps.events?.started(about);
  const runLog = createRunLogger(log, (line) => job.log(line));
  const timeout = deps.scheduleOf(schedule)?.timeout ?? SCHEDULE_DEFAULTS.timeout;
  try {
    runLog.note(startLine(attempt, timeout));
    // Cancelled before it started (a request left while it waited): it never runs.
    signal?.throwIfAborted();
    const { definition, params } = resolveRun(deps.jobs, job.name, data);
    const result = await withTimeout(timeout, signal, (runSignal) =>
      definition.run(
        jobContext(deps.resources, {
          signal: runSignal,
          log: runLog.log,
          schedule,
          runId: attempt.jobId,
          attempt: attempt.attempt,
          window,
          ...(upstream ? { upstream } : {}),
        }),
        params,
      ),
    );
    await queueDownstream(deps, runLog, { schedule, runId: attempt.jobId, window, result });
    await finish(deps, attempt, runLog, { state: 'completed', result });
    await deps.policy?.completed(policed, deps.scheduleOf(schedule));
    deps.events?.finished({ ...about, state: 'completed', result });
    return result;
  } catch (error) {
    if (error instanceof CancelledError) {
      deps.policy?.cancelled(policed);
      const thrown = await cancelled(deps, attempt, runLog, error);
      deps.events?.finished({ ...about, state: 'cancelled', error: error.message, by: error.by });
      throw thrown;
    }
    runLog.log.error({ err: error }, `attempt ${attempt.attempt} failed: ${(error as Error).message}`);
    const permanent = isPermanent(error);
    // BullMQ retries while attemptsMade + 1 < attempts (a stall starts an attempt without making one).
    const final = permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const message = (error as Error).message;
    await finish(deps, attempt, runLog, { state: 'failed', error: message, final });
    if (final) await notifyFailure(deps, attempt, message);
    // Before the attempt returns: with overlap skip, no next run starts before a pause.
    await deps.policy?.failed(policed, deps.scheduleOf(schedule), final);
    deps.events?.finished({ ...about, state: 'failed', error: message, final });
    // BullMQ skips the remaining retries only for its own UnrecoverableError.
    const thrown =
      permanent && !(error instanceof UnrecoverableError) ? new UnrecoverableError(message) : error;
    if (thrown instanceof Error) recordedFailures.add(thrown);
    throw thrown;
  }
}

/** What the run events say of an attempt. */
function aboutAttempt(attempt: RunAttempt): RunStarted {
  const { schedule, jobId: runId, attempt: n, jobType, scheduledAt } = attempt;
  return { schedule, runId, attempt: n, jobType, ...(scheduledAt ? { scheduledAt } : {}) };
}

/**
 * Records a cancelled attempt (the run ends cancelled, by whom) and answers the error BullMQ is to
 * fail the job with: an UnrecoverableError, so that no retry follows, already recorded.
 */
async function cancelled(
  deps: RunDependencies,
  attempt: RunAttempt,
  runLog: RunLogger,
  cancel: CancelledError,
): Promise<UnrecoverableError> {
  runLog.log.info({ by: cancel.by }, `attempt ${attempt.attempt} aborted: ${cancel.message}`);
  await finish(deps, attempt, runLog, { state: 'cancelled', error: cancel.message, by: cancel.by });
  const thrown = new UnrecoverableError(cancel.message);
  recordedFailures.add(thrown);
  cancelledRuns.add(thrown);
  return thrown;
}

/** The errors BullMQ fails cancelled runs with: not failures, so not counted as such. */
export const cancelledRuns = new WeakSet<object>();

/**
 * The schedules that run `after:` this one, queued before the run is recorded completed. A failure
 * to queue them (Redis away) is logged on the run, not thrown: the job's work is done, and failing
 * it would run it again (a consumer's next batch) for a downstream run that was never its work.
 */
async function queueDownstream(
  deps: RunDependencies,
  runLog: RunLogger,
  upstream: UpstreamRun,
): Promise<void> {
  try {
    await deps.completed?.(upstream);
  } catch (error) {
    runLog.log.error(
      { err: error },
      `could not queue the schedules that run after ${upstream.schedule}: ${(error as Error).message}`,
    );
  }
}

/**
 * A failure a retry cannot fix: invalid params or an unknown job type (UnrecoverableError), or an
 * error the job marks `retryable: false` (PermanentError, an open circuit, an HTTP 4xx).
 */
export function isPermanent(error: unknown): boolean {
  return error instanceof UnrecoverableError || (error as { retryable?: unknown }).retryable === false;
}

/** The job type and its validated params; neither can get better on a retry, so failing is final. */
function resolveRun(
  jobs: JobRegistry,
  name: string,
  data: unknown,
): { definition: JobDefinition; params: unknown } {
  try {
    return jobs.resolve(name, data);
  } catch (error) {
    throw new UnrecoverableError((error as Error).message);
  }
}

async function finish(
  deps: RunDependencies,
  attempt: RunAttempt,
  runLog: RunLogger,
  outcome: AttemptEnd,
): Promise<void> {
  const ms = Date.now() - attempt.startedAt.getTime();
  if (outcome.state === 'completed') runLog.note(`attempt ${attempt.attempt} completed in ${ms}ms`);
  if (outcome.state === 'cancelled') runLog.note(`attempt ${attempt.attempt} ended after ${ms}ms, cancelled`);
  await runLog.flush();
  const logs = runLog.lines();
  await deps.runs.write({ op: 'finished', run: attempt, outcome: { ...outcome, logs }, at: new Date() });
}

/** The schedule's `notify:` hears of a failed run when its failing streak reaches `after`; never waited for. */
async function notifyFailure(deps: RunDependencies, attempt: RunAttempt, error: string): Promise<void> {
  const target = deps.scheduleOf(attempt.schedule)?.notify;
  if (!target?.onFailure) return;
  try {
    const streak = await failedStreak(deps.resources.db, attempt.schedule, { cap: target.after + 1 });
    if (!shouldNotify(streak, target.after)) return;
    void deps.notifier.runFailed(target, {
      schedule: attempt.schedule,
      runId: attempt.jobId,
      jobType: attempt.jobType,
      attempts: attempt.attempt,
      error,
      failedAt: new Date(),
      consecutiveFailures: streak,
    });
  } catch (error) {
    deps.log.warn({ err: error, schedule: attempt.schedule }, 'could not count the failing streak to notify');
  }
}

/** What the failure policy is told of an attempt. */
function policyAttempt(job: Job, attempt: RunAttempt): PolicyAttempt {
  return {
    schedule: attempt.schedule,
    runId: attempt.jobId,
    attempt: attempt.attempt,
    jobType: attempt.jobType,
    dueAt: attempt.scheduledAt,
    startedAt: attempt.startedAt,
    fromJobScheduler: Boolean(job.repeatJobKey),
  };
}

function startLine(attempt: RunAttempt, timeout: number): string {
  const late = attempt.scheduledAt
    ? `, ${attempt.startedAt.getTime() - attempt.scheduledAt.getTime()}ms after its time`
    : '';
  return `attempt ${attempt.attempt} of ${attempt.jobType} started on ${attempt.worker}${late} (timeout ${formatDuration(timeout)})`;
}
