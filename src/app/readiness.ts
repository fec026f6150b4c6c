import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config/config';
import { kafkaReady } from '../health/probes';
import type { Readiness } from '../web/server';

const within = (ms: number, check: Promise<unknown>) =>
  Promise.race([
    check.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
  ]).catch(() => false);

/** /ready: the process's own Redis and PostgreSQL connections answer, and a Kafka broker does. */
export function readinessOf(redis: Redis, db: pg.Pool, config: Pick<Config, 'kafka'>): Readiness {
  return async () => {
    const [redisOk, postgresOk, kafkaOk] = await Promise.all([
      // Only a ready connection is asked: while Redis is down a ping would queue up behind the reconnect.
      redis.status === 'ready' ? within(1_000, redis.ping()) : Promise.resolve(false),
      within(1_000, db.query('select 1')),
      kafkaReady(config),
    ]);
    return { redis: redisOk, postgres: postgresOk, kafka: kafkaOk };
  };
}
