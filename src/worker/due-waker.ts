import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';

/** How often the next due time is read again without a run to prompt it (edits, a restored scheduler). */
const REARM_EVERY_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Starts a schedule's runs on time whatever Redis's `hz`. A worker waits for its next delayed run
 * blocked in Redis, and Redis ends a blocking wait only at its next timer tick (every 1/hz s: up to
 * 100 ms late at the default hz 10). New data wakes a blocked client at once, though: at the due
 * time this process adds the same "next delayed job" marker BullMQ itself writes, so the worker
 * wakes, finds the run due and starts it. Several worker processes doing it is harmless (ZADD of
 * the same member).
 */
export class DueTimeWaker {
  private timer?: NodeJS.Timeout;
  private rearm?: NodeJS.Timeout;
  private armedFor = 0;
  private closed = false;

  private readonly repeatKey: string;
  private readonly markerKey: string;

  /** `redis`: a non-blocking connection (the pool's); the worker's own is busy blocking. */
  constructor(
    private readonly worker: Worker,
    private readonly redis: Redis,
    private readonly schedulerId: string,
    private readonly log: Logger,
  ) {
    this.repeatKey = worker.keys.repeat ?? '';
    this.markerKey = worker.keys.marker ?? '';
  }

  start(): void {
    // BullMQ makes a scheduler's next run when the current one starts: that is when `next` moves.
    this.worker.on('active', this.arm);
    this.rearm = setInterval(this.arm, REARM_EVERY_MS);
    this.rearm.unref();
    this.arm();
  }

  close(): void {
    this.closed = true;
    this.worker.off('active', this.arm);
    clearInterval(this.rearm);
    clearTimeout(this.timer);
  }

  private readonly arm = () => {
    this.nextDue()
      .then((due) => {
        // Past setTimeout's limit (~24.8 days) a timer fires at once: the 1 s re-arm gets there later.
        if (this.closed || due === undefined || due === this.armedFor || due - Date.now() > MAX_TIMER_MS)
          return;
        clearTimeout(this.timer);
        this.armedFor = due;
        this.timer = setTimeout(() => void this.wake(due), Math.max(0, due - Date.now()));
        this.timer.unref();
      })
      .catch((error) =>
        this.log.debug({ err: error, schedule: this.schedulerId }, 'could not read the next due time'),
      );
  };

  private async nextDue(): Promise<number | undefined> {
    const score = await this.redis.zscore(this.repeatKey, this.schedulerId);
    return score === null ? undefined : Number(score);
  }

  private async wake(due: number): Promise<void> {
    await this.redis.zadd(this.markerKey, due, '1').catch(() => undefined);
  }
}
