import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';

/** How often the next due times are read again without a run to prompt it (edits, a restored scheduler). */
const REARM_EVERY_MS = 1_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One schedule's worker, and the timer armed for its next due time. */
interface Watched {
  worker: Worker;
  repeatKey: string;
  markerKey: string;
  onActive: () => void;
  timer?: NodeJS.Timeout;
  armedFor: number;
}

/**
 * Starts the schedules' runs on time whatever Redis's `hz`. A worker waits for its next delayed run
 * blocked in Redis, and Redis ends a blocking wait only at its next timer tick (every 1/hz s: up to
 * 100 ms late at the default hz 10). New data wakes a blocked client at once, though: at the due
 * time this process adds the same "next delayed job" marker BullMQ itself writes, so the worker
 * wakes, finds the run due and starts it. Several worker processes doing it is harmless (ZADD of
 * the same member). One per process: every second it reads all its schedules' due times in one
 * round trip, however many schedules there are.
 */
export class DueTimeWaker {
  private readonly watched = new Map<string, Watched>();
  private rearm?: NodeJS.Timeout;

  /** `redis`: a non-blocking connection (the pool's); the workers' own are busy blocking. */
  constructor(
    private readonly redis: Redis,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.rearm = setInterval(() => void this.arm([...this.watched.keys()]), REARM_EVERY_MS);
    this.rearm.unref();
  }

  /** Wakes `worker` at the due times of its schedule's job scheduler (`schedulerId`). */
  watch(worker: Worker, schedulerId: string): void {
    this.unwatch(schedulerId);
    const watched: Watched = {
      worker,
      repeatKey: worker.keys.repeat ?? '',
      markerKey: worker.keys.marker ?? '',
      onActive: () => void this.arm([schedulerId]),
      armedFor: 0,
    };
    this.watched.set(schedulerId, watched);
    // BullMQ makes a scheduler's next run when the current one starts: that is when `next` moves.
    worker.on('active', watched.onActive);
    void this.arm([schedulerId]);
  }

  unwatch(schedulerId: string): void {
    const watched = this.watched.get(schedulerId);
    if (!watched) return;
    this.watched.delete(schedulerId);
    watched.worker.off('active', watched.onActive);
    clearTimeout(watched.timer);
  }

  close(): void {
    clearInterval(this.rearm);
    for (const schedulerId of [...this.watched.keys()]) this.unwatch(schedulerId);
  }

  private async arm(schedulerIds: string[]): Promise<void> {
    const targets = schedulerIds.flatMap((id) => {
      const watched = this.watched.get(id);
      return watched ? [{ id, watched }] : [];
    });
    if (targets.length === 0) return;
    try {
      const dues = await this.nextDues(targets.map(({ id, watched }) => ({ id, key: watched.repeatKey })));
      targets.forEach(({ id, watched }, i) => {
        // Unwatched (or watched anew) while the read was under way: that one is not ours to arm.
        if (this.watched.get(id) === watched) this.armAt(watched, dues[i]);
      });
    } catch (error) {
      this.log.debug({ err: error, schedules: schedulerIds }, 'could not read the next due times');
    }
  }

  /** The job schedulers' next due times (their score in the repeat set), in one round trip. */
  private async nextDues(schedulers: { id: string; key: string }[]): Promise<(number | undefined)[]> {
    const pipeline = this.redis.pipeline();
    for (const { id, key } of schedulers) pipeline.zscore(key, id);
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([error, score]) =>
      error || score === null || score === undefined ? undefined : Number(score),
    );
  }

  private armAt(watched: Watched, due: number | undefined): void {
    // Past setTimeout's limit (~24.8 days) a timer fires at once: the 1 s re-arm gets there later.
    if (due === undefined || due === watched.armedFor || due - Date.now() > MAX_TIMER_MS) return;
    clearTimeout(watched.timer);
    watched.armedFor = due;
    watched.timer = setTimeout(() => void this.wake(watched.markerKey, due), Math.max(0, due - Date.now()));
    watched.timer.unref();
  }

  private async wake(markerKey: string, due: number): Promise<void> {
    await this.redis.zadd(markerKey, due, '1').catch(() => undefined);
  }
}
