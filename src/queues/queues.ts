import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type RedisTarget, redisConnection } from '../config/redis-connection';

/** BullMQ needs `maxRetriesPerRequest: null` so that a Redis restart pauses work instead of failing it. */
export function bullConnection(redis: RedisTarget): Redis {
  return redisConnection(redis, { maxRetriesPerRequest: null });
}

/**
 * For a command that should answer or fail fast: a Redis that is down is an error within about a
 * second (a few reconnects), not a wait for ever; its errors surface through the commands.
 */
export function oneShotRedis(target: RedisTarget): Redis {
  const redis = redisConnection(target, {
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    retryStrategy: (times) => (times > 3 ? null : 200),
  });
  redis.on('error', () => {});
  return redis;
}

/**
 * Fails fast, with the driver's own error, when Redis cannot be reached at start: a long-lived
 * connection would otherwise wait (and retry) for ever before the first command.
 */
export async function assertRedisReachable(redis: RedisTarget): Promise<void> {
  const probe = oneShotRedis(redis);
  let cause: Error | undefined;
  probe.on('error', (error: Error) => {
    cause = error;
  });
  try {
    await probe.ping();
  } catch (error) {
    // The connection's own error (ECONNREFUSED host:port) says more than "max retries reached".
    throw cause ?? error;
  } finally {
    probe.disconnect();
  }
}

/**
 * The Redis list where run history waits while PostgreSQL is away (see worker/run-history.ts):
 * while it holds anything, PostgreSQL's `runs` may be behind what the workers did.
 */
export const historyOutboxKey = (prefix: string) => `${prefix}:_tickflow:history-outbox`;

/** Which of these jobs Redis still holds, in one round trip (however many queues they are in). */
export async function jobsInRedis(redis: Redis, jobs: { queue: Queue; id: string }[]): Promise<boolean[]> {
  if (jobs.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const { queue, id } of jobs) pipeline.exists(queue.toKey(id));
  return ((await pipeline.exec()) ?? []).map(([, exists]) => exists === 1);
}

/**
 * The channel where whoever queues runs (a trigger, a resume, a catch-up, a run `after:` another)
 * or takes one (its job scheduler's next run is then made) says in which queues, so that every
 * worker process looks at those queues at once instead of at its next scan (worker/due-fetcher.ts).
 * A message lost costs at most a scan's wait.
 */
export const queuedChannel = (prefix: string) => `${prefix}:_tickflow:queued`;

/** One BullMQ queue per schedule, named after it, under the configured key prefix. */
export class QueueSet {
  private readonly queues = new Map<string, Queue>();

  constructor(
    readonly connection: Redis,
    readonly prefix: string,
  ) {}

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  /** Tells the worker processes that these queues got runs to take (see queuedChannel); never throws. */
  async announce(names: Iterable<string>): Promise<void> {
    const message = [...new Set(names)].join('\n');
    if (message) await this.connection.publish(queuedChannel(this.prefix), message).catch(() => undefined);
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async drop(name: string): Promise<void> {
    await this.queues.get(name)?.close();
    this.queues.delete(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
    this.queues.clear();
  }
}
