import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';

/** Redis wakes blocked BullMQ workers at most every 1/hz s: 100 gives ~10 ms scheduling precision (default 10: ~100 ms). */
export const REDIS_HZ = 100;

/**
 * A due run starts when Redis wakes the worker blocked on it, which Redis checks `hz` times a
 * second. A reused Redis at the default hz 10 makes runs start up to ~100 ms late: say so, with the fix.
 */
export async function warnIfCoarseRedisTimer(redis: Redis, log: Logger): Promise<number | undefined> {
  const reply = (await redis.config('GET', 'hz').catch(() => [])) as string[];
  const hz = Number(reply[1]);
  if (Number.isFinite(hz) && hz < REDIS_HZ) {
    log.warn(
      { hz },
      `Redis runs with hz ${hz}: runs may start up to ${Math.round(1000 / hz)} ms late. ` +
        `For ~${Math.round(1000 / REDIS_HZ)} ms precision run 'redis-cli config set hz ${REDIS_HZ}' (and set hz ${REDIS_HZ} in redis.conf).`,
    );
  }
  return Number.isFinite(hz) ? hz : undefined;
}
