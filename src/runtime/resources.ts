import { Redis } from 'ioredis';
import type { Kafka, Producer } from 'kafkajs';
import type pg from 'pg';
import type { Config } from '../config/config';
import { createPool } from '../db/pool';
import { createKafka } from '../kafka/client';

/**
 * The long-lived connections of one process, opened on first use and shared by every run:
 * opening a Kafka producer or a pool per run would cost more than the run itself.
 */
export class Resources {
  private pool?: pg.Pool;
  private redisClient?: Redis;
  private kafkaClient?: Kafka;
  private producerPromise?: Promise<Producer>;

  constructor(readonly config: Config) {}

  get db(): pg.Pool {
    this.pool ??= createPool(this.config);
    return this.pool;
  }

  get redis(): Redis {
    this.redisClient ??= new Redis(this.config.redisUrl, { maxRetriesPerRequest: null });
    return this.redisClient;
  }

  get kafka(): Kafka {
    this.kafkaClient ??= createKafka(this.config);
    return this.kafkaClient;
  }

  /** The idempotent producer: retries cannot duplicate or reorder messages within a partition. */
  producer(): Promise<Producer> {
    this.producerPromise ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
      await producer.connect();
      return producer;
    })();
    return this.producerPromise;
  }

  async close(): Promise<void> {
    const producer = await this.producerPromise?.catch(() => undefined);
    await producer?.disconnect().catch(() => {});
    await this.pool?.end().catch(() => {});
    this.redisClient?.disconnect();
  }
}
