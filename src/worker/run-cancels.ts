import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';
import {
  CancelledError,
  cancelChannel,
  cancelKey,
  forgetCancel,
  parseCancelRequest,
} from '../queues/run-cancel';

/** How often the cancel keys of the runs this process holds are read (a lost message is caught by this). */
const POLL_EVERY_MS = 1_000;

interface HeldRun {
  schedule: string;
  runId: string;
  controller: AbortController;
}

const keyOf = (schedule: string, runId: string) => `${schedule}\u0000${runId}`;

/**
 * The runs this worker process holds, and the cancel requests for them (see queues/run-cancel.ts):
 * each run gets a signal that aborts with BullMQ's own (the worker closing) or with a CancelledError
 * when anyone, anywhere, cancels it: at its start (a request left while it waited), on the pub/sub
 * message, or at the next poll of its key (at most a second later).
 */
export class RunCancels {
  private readonly held = new Map<string, HeldRun>();
  private subscriber?: Redis;
  private timer?: NodeJS.Timeout;

  /** `redis`: a non-blocking connection (the pool's); the subscriber is a connection of its own. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  start(): void {
    const subscriber = this.redis.duplicate();
    subscriber.on('error', (error) => this.log.warn({ err: error }, 'cancel listener: Redis error'));
    subscriber.on('message', (_channel: string, message: string) => {
      const request = parseCancelRequest(message);
      if (request) this.abort(request.schedule, request.runId, request.by);
    });
    // ioredis subscribes again after a reconnect; what a gap loses, the poll catches.
    subscriber
      .subscribe(cancelChannel(this.prefix))
      .catch((error: unknown) => this.log.warn({ err: error }, 'cancel listener: could not subscribe'));
    this.subscriber = subscriber;
    this.timer = setInterval(() => void this.poll(), POLL_EVERY_MS);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    this.subscriber?.disconnect();
  }

  /**
   * Runs one attempt with a signal that `outer` (BullMQ's) and a cancel of the run both abort. A run
   * whose cancel was requested before it started gets an aborted signal: runJob records it
   * cancelled without running it.
   */
  async run<T>(
    schedule: string,
    runId: string,
    outer: AbortSignal | undefined,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    const key = keyOf(schedule, runId);
    this.held.set(key, { schedule, runId, controller });
    try {
      const by = await this.redis.get(cancelKey(this.prefix, schedule, runId)).catch(() => null);
      if (by !== null) controller.abort(new CancelledError(by));
      return await work(controller.signal);
    } finally {
      this.held.delete(key);
      outer?.removeEventListener('abort', forward);
      if (controller.signal.reason instanceof CancelledError)
        await forgetCancel(this.redis, this.prefix, schedule, runId).catch(() => undefined);
    }
  }

  private abort(schedule: string, runId: string, by: string): void {
    const run = this.held.get(keyOf(schedule, runId));
    if (!run || run.controller.signal.aborted) return;
    this.log.info({ schedule, runId, by }, 'run cancelled: aborting it');
    run.controller.abort(new CancelledError(by));
  }

  /** One MGET for every run held: each one with a request is aborted. */
  private async poll(): Promise<void> {
    const runs = [...this.held.values()];
    if (runs.length === 0) return;
    try {
      const found = await this.redis.mget(runs.map((run) => cancelKey(this.prefix, run.schedule, run.runId)));
      runs.forEach((run, i) => {
        const by = found[i];
        if (by !== null && by !== undefined) this.abort(run.schedule, run.runId, by);
      });
    } catch (error) {
      this.log.debug({ err: error }, 'cancel poll failed; trying again in a second');
    }
  }
}
