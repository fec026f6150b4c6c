import type { Redis } from 'ioredis';

export interface EventWindow {
  from: Date;
  to: Date;
}

/**
 * Which stretch of wall-clock time a producer run stamps its transactions in: it ends now, so no
 * event is ever in the future, and it starts where the topic's previous run ended (kept in Redis),
 * so consecutive runs stamp consecutive stretches and a topic's event time only moves forward.
 *
 * A window spans at most `count / ratePerSecond` seconds: after a pause the first run does not
 * spread its transactions thinly over the whole gap. A stored end ahead of the wall clock (left by
 * the accelerated clock of older versions) is ignored.
 */
export class SimulatedClock {
  constructor(
    private readonly redis: Redis,
    private readonly key: string,
  ) {}

  static forTopic(redis: Redis, prefix: string, topic: string): SimulatedClock {
    return new SimulatedClock(redis, `${prefix}:_tickflow:simulated-clock:${topic}`);
  }

  /** The window of the next run of a stream that makes `count` transactions at `ratePerSecond`. */
  async window(count: number, ratePerSecond: number): Promise<EventWindow> {
    const stored = Number(await this.redis.get(this.key));
    const now = Date.now();
    return eventWindow(stored || undefined, now, (1000 * count) / ratePerSecond);
  }

  /** Records where this run's window ended: the next run starts there. */
  async endedAt(at: Date): Promise<void> {
    await this.redis.set(this.key, String(at.getTime()));
  }
}

/** The window ending at `now` that continues from `previousEnd` when it is recent and not ahead. */
export function eventWindow(previousEnd: number | undefined, now: number, maxSpanMs: number): EventWindow {
  const earliest = now - maxSpanMs;
  const continues = previousEnd !== undefined && previousEnd >= earliest && previousEnd <= now;
  return { from: new Date(continues ? previousEnd : earliest), to: new Date(now) };
}
