import { Redis } from 'ioredis';
import type { Admin, Kafka, Producer } from 'kafkajs';
import type pg from 'pg';
import type { Config } from '../config/config';
import { createPool } from '../db/pool';
import { BoundedConsumer } from '../kafka/bounded-consumer';
import { createKafka } from '../kafka/client';
import { ensureTopics, type TopicSpec } from '../kafka/topics';
import { createLogger, type Logger } from '../log/logger';

/**
 * The long-lived connections of one process, opened on first use and shared by every run:
 * opening a Kafka producer or a pool per run would cost more than the run itself.
 */
export class Resources {
  private pool?: pg.Pool;
  private redisClient?: Redis;
  private kafkaClient?: Kafka;
  private producerPromise?: Promise<Producer>;
  private adminPromise?: Promise<Admin>;
  private readonly consumers = new Map<string, Promise<BoundedConsumer>>();
  private readonly ensuredTopics = new Set<string>();
  private readonly sharedObjects = new Map<string, unknown>();
  private readonly log: Logger;

  constructor(
    readonly config: Config,
    log?: Logger,
  ) {
    this.log = log ?? createLogger(config.logLevel, 'resources');
  }

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

  /**
   * The idempotent producer: its own retries cannot duplicate or reorder messages within a partition.
   * Retries are bounded (the client's retry settings), so a send can still fail after a long broker
   * outage; the run then fails and its messages come again (at-least-once; consumers dedupe by key).
   */
  producer(): Promise<Producer> {
    this.producerPromise ??= (async () => {
      const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
      await producer.connect();
      return producer;
    })();
    return this.producerPromise;
  }

  admin(): Promise<Admin> {
    this.adminPromise ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })();
    return this.adminPromise;
  }

  /** Creates missing topics once per process; later runs skip the round trip. */
  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const missing = topics.filter((topic) => !this.ensuredTopics.has(topic.name));
    if (missing.length === 0) return;
    await ensureTopics(this.kafka, missing);
    for (const topic of missing) this.ensuredTopics.add(topic.name);
  }

  /**
   * This process's member of `group` for `topic`: joined on first use and kept, so runs do not
   * pay a group rejoin. A consumer kafkajs gave up on is replaced.
   */
  async boundedConsumer(topic: string, group: string): Promise<BoundedConsumer> {
    const key = `${group}\u0000${topic}`;
    const current = this.consumers.get(key);
    if (current) {
      const consumer = await current.catch(() => undefined);
      if (consumer?.healthy) return consumer;
      if (this.consumers.get(key) === current) {
        this.consumers.delete(key);
        await consumer?.stop().catch(() => {});
      }
      return this.boundedConsumer(topic, group);
    }
    const started = BoundedConsumer.start(this.kafka, topic, group, this.log);
    this.consumers.set(key, started);
    started.catch(() => {
      if (this.consumers.get(key) === started) this.consumers.delete(key);
    });
    return started;
  }

  /** A process-wide object by key (e.g. an HTTP predictor with its circuit breaker state). */
  shared<T>(key: string, create: () => T): T {
    if (!this.sharedObjects.has(key)) this.sharedObjects.set(key, create());
    return this.sharedObjects.get(key) as T;
  }

  async close(): Promise<void> {
    // Consumers first: leaving the group lets the other members take over their partitions now.
    const consumers = await Promise.all([...this.consumers.values()].map((c) => c.catch(() => undefined)));
    await Promise.all(consumers.map((consumer) => consumer?.stop().catch(() => {})));
    this.consumers.clear();
    const producer = await this.producerPromise?.catch(() => undefined);
    await producer?.disconnect().catch(() => {});
    const admin = await this.adminPromise?.catch(() => undefined);
    await admin?.disconnect().catch(() => {});
    await this.pool?.end().catch(() => {});
    this.redisClient?.disconnect();
  }
}
