import pg from 'pg';
import type { Config } from '../config/config';
import { type RedisTarget, redisConnection } from '../config/redis-connection';
import { createKafka } from '../kafka/client';

/**
 * Ready means the service answers a real request, not merely that its port is open; for a cluster,
 * that `brokers` of them have registered with the controller.
 */
export async function kafkaReady(config: Pick<Config, 'kafka'>, brokers = 1): Promise<boolean> {
  const admin = createKafka(config, { quick: true }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length >= brokers;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export async function redisReady(target: RedisTarget): Promise<boolean> {
  const redis = redisConnection(target, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Probes the server through its maintenance database, so a not-yet-created tickflow database still counts. */
export async function postgresReady(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}
