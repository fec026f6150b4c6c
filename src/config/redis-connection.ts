import { Redis, type RedisOptions } from 'ioredis';
import type { Config } from './config';

/** What a Redis connection needs from the configuration: the URL, and Sentinel when there is one. */
export type RedisTarget = Pick<Config, 'redisUrl' | 'redisSentinel'>;

/**
 * The one way tickflow opens a Redis connection. With Sentinel (REDIS_SENTINELS, REDIS_SENTINEL_NAME)
 * ioredis asks the Sentinels for the current master and, after a failover, reconnects to the promoted
 * one; REDIS_URL still gives the credentials and the db. `options` are the caller's (retries, timeouts).
 */
export function redisConnection(target: RedisTarget, options: RedisOptions = {}): Redis {
  const sentinel = target.redisSentinel;
  if (!sentinel) return new Redis(target.redisUrl, options);
  return new Redis({ ...credentialsOf(target.redisUrl), ...sentinelOptions(target, options), ...options });
}

/**
 * The same as options, for BullMQ classes that open their own connections (QueueEvents). Typed loosely:
 * BullMQ's connection type and ioredis's options differ only in how optional fields are declared.
 */
export function redisConnectionOptions(
  target: RedisTarget,
  options: RedisOptions = {},
): { [option: string]: unknown } {
  if (!target.redisSentinel) return { ...urlOptions(target.redisUrl), ...options };
  return { ...credentialsOf(target.redisUrl), ...sentinelOptions(target, options), ...options };
}

function sentinelOptions(target: RedisTarget, options: RedisOptions): RedisOptions {
  const sentinel = target.redisSentinel as NonNullable<RedisTarget['redisSentinel']>;
  return {
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    // Sentinel tells subscribers of +switch-master at once: reconnect then, not when a command times out.
    failoverDetector: true,
    // A connection still on the old master (now a replica) refuses writes: reconnect to the new one.
    reconnectOnError: (error) => error.message.startsWith('READONLY'),
    // The caller's reconnect policy applies to the Sentinels too (a probe gives up as fast on them).
    ...(options.retryStrategy ? { sentinelRetryStrategy: options.retryStrategy } : {}),
  };
}

/** The user, password and db of a redis:// URL; with Sentinel, its host and port are not used. */
function credentialsOf(redisUrl: string): RedisOptions {
  const { username, password, db, tls } = urlOptions(redisUrl);
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(db ? { db } : {}),
    ...(tls ? { tls } : {}),
  };
}

function urlOptions(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  const db = Number(url.pathname.slice(1) || 0);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 6379),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(db ? { db } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}
