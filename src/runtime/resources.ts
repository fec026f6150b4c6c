import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config/config';
import { redisConnection } from '../config/redis-connection';
import { createPool } from '../db/pool';
import { KafkaStreams } from '../kafka/kafka-streams';
import { createLogger, type Logger } from '../log/logger';

/**
 * The long-lived connections of one process, opened on first use and shared by every run:
 * opening a Kafka producer or a pool per run would cost more than the run itself.
 */
export class Resources {
  private pool?: pg.Pool;
  private redisClient?: Redis;
  private readonly sharedObjects = new Map<string, unknown>();
  /** Kafka through tickflow's client module; jobs see it as a StreamClient. */
  readonly kafka: KafkaStreams;

  constructor(
    readonly config: Config,
    log?: Logger,
  ) {
    this.kafka = new KafkaStreams(config, log ?? createLogger(config.logLevel, 'resources'));
  }

  get db(): pg.Pool {
    this.pool ??= createPool(this.config);
    return this.pool;
  }

  get redis(): Redis {
    this.redisClient ??= redisConnection(this.config, { maxRetriesPerRequest: null });
    return this.redisClient;
  }

  /** A process-wide object by key (e.g. an HTTP predictor with its circuit breaker state). */
  shared<T>(key: string, create: () => T): T {
    if (!this.sharedObjects.has(key)) this.sharedObjects.set(key, create());
    return this.sharedObjects.get(key) as T;
  }

  async close(): Promise<void> {
    await this.kafka.close();
    await this.pool?.end().catch(() => {});
    this.redisClient?.disconnect();
  }
}
