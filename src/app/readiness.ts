import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import type { Config } from '../config/config';
import { redisConnection } from '../config/redis-connection';
import { createPool } from '../db/pool';
import { createKafka } from '../kafka/client';
import type { Readiness } from '../web/server';

const within = (ms: number, check: Promise<unknown>) =>
  Promise.race([
    check.then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref()),
  ]).catch(() => false);

export interface ReadinessProbe {
  check: Readiness;
  close(): Promise<void>;
}

/**
 * /ready: Redis, PostgreSQL and a Kafka broker each answer a real request, on connections of the
 * probe's own (one each, kept open): a flood of /ready neither opens a connection per request nor
 * queues behind the runs' pool. The web server asks at most once a second (READY_TTL_MS).
 */
export function readinessOf(
  config: Pick<Config, 'kafka' | 'redisUrl' | 'redisSentinel' | 'databaseUrl' | 'databaseSchema'>,
): ReadinessProbe {
  const redis = redisConnection(config, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (times) => Math.min(times * 200, 2_000),
  });
  redis.on('error', () => {});
  const db = createPool(config, 1);
  const kafka = new KafkaProbe(config);
  let closed = false;
  return {
    async check() {
      const [redisOk, postgresOk, kafkaOk] = await Promise.all([
        redisReady(redis),
        within(1_000, db.query('select 1')),
        kafka.ready(),
      ]);
      return { redis: redisOk, postgres: postgresOk, kafka: kafkaOk };
    },
    async close() {
      if (closed) return;
      closed = true;
      redis.disconnect();
      await Promise.all([db.end().catch(() => {}), kafka.close()]);
    },
  };
}

/** Connected on the first check; later, while Redis is down, no ping waits for the reconnect. */
async function redisReady(redis: Redis): Promise<boolean> {
  if (redis.status === 'wait') await within(1_000, redis.connect());
  return redis.status === 'ready' && within(1_000, redis.ping());
}

/** One admin client, connected on first use and again after a failure. */
class KafkaProbe {
  private admin: Admin | undefined;

  constructor(private readonly config: Pick<Config, 'kafka'>) {}

  async ready(): Promise<boolean> {
    try {
      if (!this.admin) {
        const admin = createKafka(this.config, { quick: true }).admin();
        this.admin = admin;
        if (!(await within(2_000, admin.connect()))) throw new Error('no broker answered');
      }
      const admin = this.admin;
      let brokers = 0;
      const answered = await within(
        2_000,
        admin.describeCluster().then((cluster) => {
          brokers = cluster.brokers.length;
        }),
      );
      if (!answered) throw new Error('no broker answered');
      return brokers > 0;
    } catch {
      await this.close();
      return false;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.disconnect().catch(() => {});
  }
}
