import type { Redis } from 'ioredis';

/**
 * Where a topic's simulated stream has got to, kept in Redis so each producer run continues it.
 *
 * Why: the simulator spaces transactions as its 5,000 accounts would make them (about one every
 * 4 s overall). Runs that each claimed "the last few minutes" would pile many runs' transactions
 * into the same minutes of every account's history, and every account would look like a burst
 * of fraud. Continuing one clock keeps per-account history realistic at any production rate;
 * producing faster than the simulated rate makes it run ahead of the wall clock (a compressed replay).
 */
export class SimulatedClock {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  static forTopic(redis: Redis, prefix: string, topic: string): SimulatedClock {
    return new SimulatedClock(redis, `${prefix}:_tickflow:simulated-clock:${topic}`);
  }

  /** Where the next run starts: after the last one, and never before now (a paused producer skips ahead). */
  async next(): Promise<Date> {
    const stored = Number(await this.redis.get(this.key));
    return new Date(Math.max(stored || 0, Date.now()));
  }

  async advanceTo(at: Date): Promise<void> {
    await this.redis.set(this.key, String(at.getTime()));
  }
}
