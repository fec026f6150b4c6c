import { createRedisBackend, type Job, type Processor, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { DueQueue } from './due-fetcher';

export interface QueueRunnerOptions {
  /** The process's shared, non-blocking connection: the runner opens none of its own. */
  connection: Redis;
  prefix: string;
  /** Runs of this queue one process takes at once. */
  concurrency: number;
  lockDuration: number;
  stalledInterval: number;
  /** Told when a run ended or stalled ones were moved back: the fetcher looks at the queue again. */
  changed(): void;
  /** Told when the runner took runs: a job scheduler's run taken has made its next one. */
  took(): void;
  /** Told of each Worker the runner makes (its listeners go on it). */
  started(worker: Worker): void;
  /** What went wrong outside a Worker's own events. */
  failed(error: unknown): void;
}

/**
 * One schedule's queue, run by a BullMQ Worker that BullMQ itself never drives: no main loop, so no
 * blocking connection, no stalled-check timer and no lock-renewal timer per queue. The DueFetcher
 * says when to fetch (BullMQ's non-blocking getNextJob), the Worker runs each run as it would in
 * its own loop (processJob: locks, completed/failed, retries and backoff, the job scheduler's next
 * run, its events), the WorkerPool renews the locks of all runs held in one timer, and the stalled
 * check runs only for queues that have active runs. Pausing the queue (Bull Board) still stops it.
 * The Worker itself exists only while the queue has work (a run due soon, held or just ended): an
 * idle schedule costs this object and no more, so memory follows the runs, not the schedules.
 */
export class QueueRunner implements DueQueue {
  readonly keyPrefix: string;
  concurrency: number;
  private worker?: Worker;
  /** The runs this runner holds, by job id: their lock token and since when (what lock renewal needs). */
  private readonly held = new Map<string, { token: string; since: number }>();
  private readonly chains = new Set<Promise<void>>();
  private fetching = false;
  private fetchAgain = false;
  private closing = false;
  private tokens = 0;
  private busySince = Date.now();

  constructor(
    private readonly name: string,
    private readonly processor: Processor,
    private readonly options: QueueRunnerOptions,
  ) {
    this.concurrency = options.concurrency;
    // BullMQ's key layout (queue-keys.ts): `<prefix>:<queue>:<type>`.
    this.keyPrefix = `${options.prefix}:${name}:`;
  }

  /** A run is due soon: the Worker is made now, not at the due time (where it would add to the delay). */
  prepare(): void {
    if (this.closing) return;
    this.busySince = Date.now();
    this.workerNow();
  }

  /** Closes the Worker of a queue with nothing held nor fetched for `idleMs` (it is made again when needed). */
  async closeIfIdle(idleMs: number): Promise<void> {
    if (!this.worker || this.fetching || this.chains.size > 0 || Date.now() - this.busySince < idleMs) return;
    const worker = this.worker;
    this.worker = undefined;
    await worker.close();
  }

  /** Takes runs while the queue has some and this process has room for them. */
  fetch(): void {
    if (this.closing) return;
    if (this.fetching) {
      this.fetchAgain = true;
      return;
    }
    this.fetching = true;
    this.busySince = Date.now();
    void this.fetchWhileRoom().finally(() => {
      this.fetching = false;
      this.busySince = Date.now();
      if (this.fetchAgain) {
        this.fetchAgain = false;
        this.fetch();
      }
    });
  }

  /** BullMQ's stalled check of this queue: runs whose lock expired (a worker killed) go back to wait. */
  checkStalled(): void {
    if (this.closing) return;
    this.busySince = Date.now();
    // Private in BullMQ's typings, public in its code: the check its own timer would run.
    const worker = this.workerNow() as unknown as { moveStalledJobsToWait(): Promise<void> };
    worker
      .moveStalledJobsToWait()
      .then(() => this.options.changed())
      .catch((error: unknown) => this.options.failed(error));
  }

  /**
   * Renews the locks of the runs held for a quarter of the lock's life or more (BullMQ's own rule: a
   * run of a few milliseconds never needs it), in one call for the queue however many they are.
   */
  async renewLocks(): Promise<void> {
    const due = Date.now() - this.options.lockDuration / 4;
    const runs = [...this.held].filter(([, run]) => run.since <= due);
    if (runs.length === 0) return;
    const ids = runs.map(([id]) => id);
    const tokens = runs.map(([, run]) => run.token);
    const failed = await this.workerNow().extendJobLocks(ids, tokens, this.options.lockDuration);
    // A run that ended meanwhile has no lock left to renew: only one still held is worth a word.
    for (const id of failed.filter((id) => this.held.has(id)))
      this.options.failed(new Error(`could not renew the lock of run ${id}`));
  }

  /** Stops taking runs, waits for the ones held (their timeout bounds them), then closes the worker. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.chains.size > 0) await Promise.all(this.chains);
    await this.worker?.close();
    this.worker = undefined;
  }

  private workerNow(): Worker {
    this.worker ??= this.makeWorker();
    return this.worker;
  }

  private makeWorker(): Worker {
    const { options } = this;
    const worker = new Worker(
      this.name,
      this.processor,
      {
        connection: options.connection,
        prefix: options.prefix,
        autorun: false,
        concurrency: options.concurrency,
        lockDuration: options.lockDuration,
        stalledInterval: options.stalledInterval,
        skipLockRenewal: true,
        skipStalledCheck: true,
        // The shared connection was checked when the process started: no INFO per Worker.
        skipVersionCheck: true,
      },
      // BullMQ's Redis backend without the blocking connection a Worker otherwise duplicates.
      (queue, opts) => createRedisBackend(queue, opts),
    );
    options.started(worker);
    return worker;
  }

  private async fetchWhileRoom(): Promise<void> {
    let took = false;
    while (!this.closing && this.chains.size < this.concurrency) {
      const worker = this.workerNow();
      const token = `${worker.id}:${this.tokens++}`;
      const job = await worker.getNextJob(token, { block: false }).catch((error: unknown) => {
        this.options.failed(error);
        return undefined;
      });
      if (!job) break;
      took = true;
      this.startChain(worker, job, token);
    }
    if (took) this.options.took();
  }

  /** Runs `job`, then each run BullMQ hands back as it finishes one (its fetch-next), as its own loop does. */
  private startChain(worker: Worker, first: Job, token: string): void {
    const chain = (async () => {
      let job: Job | undefined = first;
      while (job?.id) {
        this.held.set(job.id, { token, since: Date.now() });
        const current: Job = job;
        try {
          job = (await worker.processJob(current, token, () => !this.closing)) || undefined;
        } finally {
          this.held.delete(current.id ?? '');
        }
      }
    })()
      .catch((error: unknown) => this.options.failed(error))
      .finally(() => {
        this.chains.delete(chain);
        this.busySince = Date.now();
        // A retry's backoff, the next waiting run: the fetcher looks again.
        this.options.changed();
      });
    this.chains.add(chain);
  }
}
