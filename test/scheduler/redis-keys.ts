import type { Redis } from 'ioredis';

/**
 * Deletes every key under one queue prefix: how tests clean up, and how they simulate a Redis
 * flush without touching anyone else's keys on the shared server.
 */
export async function deletePrefix(redis: Redis, prefix: string): Promise<number> {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
