import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { isUnreachable } from '../health/unreachable';
import type { Logger } from '../log/logger';
import { historyOutboxKey } from '../queues/queues';
import type { HistoryWrite, JobRunsLog, RunAttempt } from './job-runs';

/** How often a waiting outbox is offered to PostgreSQL again. */
const FLUSH_EVERY_MS = 1_000;
/** Outbox items applied per flush pass before yielding (a long outage leaves thousands). */
const FLUSH_BATCH = 500;
const LOCK_MS = 10_000;

const DATE_KEYS = new Set(['startedAt', 'scheduledAt', 'at', 'windowFrom', 'windowTo']);
const revive = (key: string, value: unknown) =>
  DATE_KEYS.has(key) && typeof value === 'string' ? new Date(value) : value;

/** One attempt of one run, as a key. */
const attemptKey = (run: RunAttempt) => `${run.schedule}\u0000${run.jobId}\u0000${run.attempt}`;

/**
 * The run history, kept through PostgreSQL outages: a write PostgreSQL cannot take now goes to an
 * outbox list in Redis (shared by every worker process), and is applied, in order, once PostgreSQL
 * answers again. While the outbox may hold an earlier write of the same run, a new write queues
 * behind it, so a run's end never lands before its start. Every write is idempotent, so a replayed
 * one does no harm.
 */
export class RunHistory {
  private readonly outbox: string;
  private readonly lock: string;
  private timer?: NodeJS.Timeout;
  private flushing?: Promise<void>;
  /** Attempts this process started whose start it had to queue: their end queues behind it. */
  private readonly queuedStarts = new Set<string>();

  constructor(
    private readonly store: JobRunsLog,
    private readonly redis: Redis,
    prefix: string,
    private readonly log: Logger,
  ) {
    this.outbox = historyOutboxKey(prefix);
    this.lock = `${this.outbox}:lock`;
  }

  start(): void {
    this.timer = setInterval(() => void this.flush(), FLUSH_EVERY_MS);
    this.timer.unref();
  }

  /** Stops the flusher; what is still in the outbox waits there for the next process. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
  }

  /** Never throws: history must not decide a run's fate. */
  async write(write: HistoryWrite): Promise<void> {
    try {
      if (!(await this.mustQueue(write))) {
        await this.store.apply(write);
        return;
      }
    } catch (error) {
      if (!isUnreachable(error)) {
        this.log.warn({ err: error, op: write.op }, 'could not record the run in runs/job_runs');
        return;
      }
    }
    await this.enqueue(write);
  }

  /** Applies the outbox in order, one process at a time; stops at the first sign PostgreSQL is away. */
  flush(): Promise<void> {
    this.flushing ??= this.flushOnce().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  /**
   * Whether an earlier write of this run may wait in the outbox, so this one must queue behind it.
   * An attempt's end follows its start, written by this process: it knows whether it queued that.
   * Another process may have written the run before only if it ran an earlier attempt (this is the
   * start of a retry or of a stalled run taken over: attempt 2 or more), or when BullMQ failed the
   * run outside any attempt (failedOutside): only those ask Redis. A run's first attempt, nearly
   * every write, costs no round trip to Redis.
   */
  private async mustQueue(write: HistoryWrite): Promise<boolean> {
    if (write.op === 'finished') return this.queuedStarts.delete(attemptKey(write.run));
    if (write.op === 'started' && write.run.attempt === 1) return false;
    return (await this.redis.llen(this.outbox)) > 0;
  }

  private async enqueue(write: HistoryWrite): Promise<void> {
    if (write.op === 'started') this.queuedStarts.add(attemptKey(write.run));
    try {
      await this.redis.rpush(this.outbox, JSON.stringify(write));
      this.log.warn({ op: write.op }, 'PostgreSQL unreachable: run history kept in Redis until it is back');
    } catch (error) {
      this.log.error({ err: error, op: write.op }, 'run history lost: neither PostgreSQL nor Redis took it');
    }
  }

  private async flushOnce(): Promise<void> {
    // The usual case, every second in every worker: nothing queued, one LLEN and no lock.
    if ((await this.redis.llen(this.outbox).catch(() => 0)) === 0) return;
    const token = randomUUID();
    const locked = await this.redis.set(this.lock, token, 'PX', LOCK_MS, 'NX').catch(() => null);
    if (!locked) return;
    try {
      let applied = 0;
      for (let i = 0; i < FLUSH_BATCH; i++) {
        const item = await this.redis.lindex(this.outbox, 0);
        if (item === null) break;
        if (!(await this.applyQueued(item))) break;
        // Remove exactly what was applied: a crash before this line replays it, which is harmless.
        await this.redis.lpop(this.outbox);
        applied++;
      }
      if (applied) this.log.info({ applied }, 'run history written to PostgreSQL after an outage');
    } finally {
      // Release only our own lock (it may have expired and been taken by another process).
      await this.redis
        .eval(
          "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end",
          1,
          this.lock,
          token,
        )
        .catch(() => undefined);
    }
  }

  /** True when the item is done with (applied, or impossible and dropped); false to retry later. */
  private async applyQueued(item: string): Promise<boolean> {
    const write = JSON.parse(item, revive) as HistoryWrite;
    try {
      await this.store.apply(write);
      return true;
    } catch (error) {
      if (isUnreachable(error)) return false;
      this.log.error({ err: error, op: write.op }, 'dropping a queued run-history write PostgreSQL refuses');
      return true;
    }
  }
}
