import { EventEmitter } from 'node:events';
import type { Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';
import type { RunDetails } from '../metrics/metrics';
import type { FailureNotifier } from '../notify/failure-notifier';
import { queueAfterRun } from '../queues/after-runs';
import { QueueSet } from '../queues/queues';
import { scheduledAt, startDelaySeconds } from '../queues/run-ids';
import type { UpstreamRun } from '../runtime/job';
import type { JobRegistry } from '../runtime/job-registry';
import type { Resources } from '../runtime/resources';
import type { Schedule } from '../schedules/schedule';
import { DueFetcher } from './due-fetcher';
import { FailurePolicy, type FailurePolicyOptions } from './failure-policy';
import { JobRunsLog } from './job-runs';
import { QueueRunner } from './queue-runner';
import { RunCancels } from './run-cancels';
import type { RunFinished, RunStarted, WorkerPoolEvents } from './run-events';
import { RunHistory } from './run-history';
import { cancelledRuns, type RunDependencies, recordedFailures, runJob } from './run-job';

/** With `overlap: allow`, how many runs of one schedule a single worker process takes at once. */
export const ALLOW_CONCURRENCY = 10;

/** A queue with no run held, fetched or due soon for this long gives its BullMQ Worker up. */
const WORKER_IDLE_MS = 10_000;

export interface WorkerPoolOptions {
  /**
   * A BullMQ-ready connection (see bullConnection), shared by every schedule's queue: the pool opens
   * only two subscribers of its own (run cancels, queued runs), however many schedules there are.
   */
  connection: Redis;
  prefix: string;
  resources: Resources;
  /** The job types the workers run: a run of a type not in it fails at once. */
  jobs: JobRegistry;
  log: Logger;
  /** Tells a schedule's `notify:` webhook of failing runs. */
  notifier: FailureNotifier;
  /**
   * How long a run's lock lives without renewal. A worker killed mid-run leaves its job active
   * until the lock expires; the next stalled check (every `stalledInterval`) then retries it.
   */
  lockDuration?: number;
  stalledInterval?: number;
  /**
   * Told of every finished attempt (for metrics), with the start − due time of a run's first
   * attempt (none for retries, whose wait is the backoff, nor for catch-up runs) and what a
   * completed attempt returned.
   */
  onFinished?: (
    schedule: string,
    state: 'completed' | 'failed',
    seconds: number,
    details: RunDetails,
  ) => void;
  /** Told of the slots a job scheduler skipped before a late run (failure-policy.ts; for metrics). */
  onSlotsSkipped?: FailurePolicyOptions['onSlotsSkipped'];
}

/**
 * Runs every schedule's queue (one QueueRunner each, following the schedules as the file changes)
 * on the process's one shared connection: one DueFetcher says when a queue has a run to take, one
 * timer renews the locks of every run held. Emits `run:started` and `run:finished` (run-events.ts)
 * for each attempt its workers run, once recorded.
 */
export class WorkerPool extends EventEmitter<WorkerPoolEvents> {
  private readonly runners = new Map<string, QueueRunner>();
  private readonly fetcher: DueFetcher;
  private readonly lockRenewal: NodeJS.Timeout;
  private schedules = new Map<string, Schedule>();
  private readonly runs: RunHistory;
  /** The runs this process holds, and the cancels of them asked for anywhere. */
  private readonly cancels: RunCancels;
  /**
   * The queues of schedules that run `after:` another, which this pool's completed runs feed; its
   * announce tells every worker process of runs queued or taken.
   */
  private readonly downstreamQueues: QueueSet;
  /** pauseAfter, deadline, recovery notices and skipped slots (its pause uses downstreamQueues' connection). */
  private readonly policy: FailurePolicy;
  /** What every run of this pool is run with. */
  private readonly runDeps: RunDependencies;

  constructor(private readonly options: WorkerPoolOptions) {
    super();
    const { resources, prefix, log } = options;
    this.runs = new RunHistory(new JobRunsLog(resources.db), resources.redis, prefix, log);
    this.runs.start();
    this.cancels = new RunCancels(options.connection, prefix, log);
    this.cancels.start();
    this.fetcher = new DueFetcher(options.connection, prefix, log, this.stalledInterval);
    this.fetcher.start();
    // BullMQ's own rhythm: a held run's lock is renewed well before half of it has gone.
    this.lockRenewal = setInterval(() => void this.renewLocks(), this.lockDuration / 4);
    this.lockRenewal.unref();
    this.downstreamQueues = new QueueSet(options.connection, prefix);
    this.policy = new FailurePolicy({
      db: resources.db,
      queues: this.downstreamQueues,
      notifier: options.notifier,
      log,
      ...(options.onSlotsSkipped ? { onSlotsSkipped: options.onSlotsSkipped } : {}),
    });
    this.runDeps = {
      resources,
      jobs: options.jobs,
      runs: this.runs,
      log,
      notifier: options.notifier,
      scheduleOf: (name: string) => this.schedules.get(name),
      completed: this.queueDownstream,
      policy: this.policy,
      events: {
        started: (run: RunStarted) => this.tell('run:started', () => this.emit('run:started', run)),
        finished: (run: RunFinished) => this.tell('run:finished', () => this.emit('run:finished', run)),
      },
    };
  }

  /** Starts runners for new schedules, adjusts changed ones, closes (gracefully) removed ones. */
  async sync(schedules: Schedule[]): Promise<void> {
    this.schedules = new Map(schedules.map((s) => [s.name, s]));
    for (const schedule of schedules) {
      const runner = this.runners.get(schedule.name);
      if (runner) runner.concurrency = concurrencyOf(schedule);
      else this.runners.set(schedule.name, this.startRunner(schedule));
    }
    const gone = [...this.runners.keys()].filter((name) => !this.schedules.has(name));
    await Promise.all(gone.map((name) => this.stopRunner(name)));
  }

  /** Stops taking runs and waits for the active ones, which their timeout bounds. */
  async close(): Promise<void> {
    this.fetcher.close();
    await Promise.all([...this.runners.keys()].map((name) => this.stopRunner(name)));
    clearInterval(this.lockRenewal);
    await this.cancels.close();
    this.policy.close();
    await this.runs.stop();
    await this.downstreamQueues.close();
  }

  /**
   * Queues a run of each schedule that runs `after:` this one, with the completed run's window and
   * result. A paused schedule takes none, like a paused Airflow DAG is not triggered by its dataset.
   */
  private readonly queueDownstream = async (upstream: UpstreamRun): Promise<void> => {
    for (const downstream of this.schedules.values()) {
      const { trigger } = downstream;
      if (!('after' in trigger) || trigger.after !== upstream.schedule) continue;
      const queue = this.downstreamQueues.get(downstream.name);
      if (await queue.isPaused()) continue;
      const runId = await queueAfterRun(queue, this.options.resources.db, downstream, upstream);
      await this.downstreamQueues.announce([downstream.name]);
      this.options.log.debug(
        { schedule: downstream.name, runId, after: upstream.runId },
        'queued after its upstream',
      );
    }
  };

  private get lockDuration(): number {
    return this.options.lockDuration ?? 10_000;
  }

  private get stalledInterval(): number {
    return this.options.stalledInterval ?? 5_000;
  }

  /**
   * One timer for every run this process holds, one call per queue holding any; and the Workers of
   * queues idle for a while go (their runner makes one again for the next run).
   */
  private async renewLocks(): Promise<void> {
    await Promise.all(
      [...this.runners.entries()].map(async ([name, runner]) => {
        try {
          await runner.renewLocks();
          await runner.closeIfIdle(WORKER_IDLE_MS);
        } catch (error) {
          this.options.log.error({ err: error, schedule: name }, 'worker error');
        }
      }),
    );
  }

  private startRunner(schedule: Schedule): QueueRunner {
    const runner = new QueueRunner(
      schedule.name,
      (job, _token, signal) =>
        this.cancels.run(schedule.name, String(job.id), signal, (runSignal) =>
          runJob(job, this.runDeps, runSignal),
        ),
      {
        connection: this.options.connection,
        prefix: this.options.prefix,
        concurrency: concurrencyOf(schedule),
        lockDuration: this.lockDuration,
        stalledInterval: this.stalledInterval,
        changed: () => this.fetcher.check([schedule.name]),
        // Every worker process (this one too) arms the next run's due time now, not at its next scan:
        // whichever process is free then takes it.
        took: () => void this.downstreamQueues.announce([schedule.name]),
        started: (worker) => this.listen(worker, schedule),
        failed: (error) => this.options.log.error({ err: error, schedule: schedule.name }, 'worker error'),
      },
    );
    this.fetcher.watch(schedule.name, runner);
    return runner;
  }

  /** The worker's events: errors and stalls logged, runs BullMQ failed on its own recorded, metrics told. */
  private listen(worker: Worker, schedule: Schedule): void {
    const { jobs, log } = this.options;
    worker.on('error', (error) => log.error({ err: error, schedule: schedule.name }, 'worker error'));
    worker.on('stalled', (jobId) => log.warn({ schedule: schedule.name, jobId }, 'run stalled; retrying it'));
    // Runs BullMQ failed without running them (stalled past its limit): runJob never recorded those.
    worker.on('failed', (job, error) => {
      if (!job?.id || recordedFailures.has(error)) return;
      const { attemptsStarted: attempts } = job;
      const runId = job.id;
      void this.runs
        .write({
          op: 'failedOutside',
          schedule: schedule.name,
          runId,
          attempts,
          error: error.message,
          at: new Date(),
        })
        .then(() => {
          const run: RunFinished = {
            schedule: schedule.name,
            runId,
            attempt: attempts,
            jobType: job.name,
            scheduledAt: scheduledAt(job),
            state: 'failed',
            error: error.message,
            final: true,
          };
          this.tell('run:finished', () => this.emit('run:finished', run));
        });
    });
    const { onFinished } = this.options;
    if (onFinished) {
      const seconds = (job: { processedOn?: number; finishedOn?: number }) =>
        ((job.finishedOn ?? Date.now()) - (job.processedOn ?? Date.now())) / 1000;
      const startDelay = (job: Job) => {
        const delay = startDelaySeconds(job);
        return delay === undefined ? {} : { startDelaySeconds: delay };
      };
      worker.on('completed', (job, result) =>
        onFinished(schedule.name, 'completed', seconds(job), {
          ...startDelay(job),
          result,
          // The job type this run ran, whatever the schedules file says now.
          messageCounts: jobs.messageCountsOf(job.name),
        }),
      );
      worker.on(
        'failed',
        (job, error) =>
          job &&
          !cancelledRuns.has(error) &&
          onFinished(schedule.name, 'failed', seconds(job), startDelay(job)),
      );
    }
  }

  /** A listener that throws must not decide a run's fate: it is logged, and the run goes on. */
  private tell(event: keyof WorkerPoolEvents, emit: () => void): void {
    try {
      emit();
    } catch (error) {
      this.options.log.warn({ err: error, event }, 'a run event listener threw');
    }
  }

  private async stopRunner(name: string): Promise<void> {
    const runner = this.runners.get(name);
    this.runners.delete(name);
    this.fetcher.unwatch(name);
    await runner?.close();
  }
}

const concurrencyOf = (schedule: Schedule) => (schedule.overlap === 'skip' ? 1 : ALLOW_CONCURRENCY);
