import type { Redis } from 'ioredis';
import type pg from 'pg';
import type { Config } from '../config/config';
import { redisConnection } from '../config/redis-connection';
import { createPool } from '../db/pool';
import { type ClosableStreamClient, createStreamClient } from '../kafka/create-stream-client';
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
  /** Kafka through the client KAFKA_CLIENT names; jobs see it as a StreamClient. */
  readonly kafka: ClosableStreamClient;
  private kafkajsTools?: KafkaStreams;
  private readonly log: Logger;

  constructor(
    readonly config: Config,
    log?: Logger,
  ) {
    this.log = log ?? createLogger(config.logLevel, 'resources');
    this.kafka = createStreamClient(config, this.log);
  }

  /**
   * kafkajs's client, producer and admin for tools and tests (reading a topic back, creating one with
   * odd settings), whichever client runs the jobs: the same instance when that is kafkajs.
   */
  get kafkajs(): KafkaStreams {
    if (this.kafka instanceof KafkaStreams) return this.kafka;
    this.kafkajsTools ??= new KafkaStreams(this.config, this.log);
    return this.kafkajsTools;
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
    await this.kafkajsTools?.close();
    await this.pool?.end().catch(() => {});
    this.redisClient?.disconnect();
  }
}
