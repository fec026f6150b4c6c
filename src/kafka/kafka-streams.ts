import type { Admin, Kafka, Producer } from 'kafkajs';
import type { Config } from '../config/config';
import type { Logger } from '../log/logger';
import { tracing } from '../telemetry/tracing';
import { BoundedConsumer } from './bounded-consumer';
import { createKafka } from './client';
import { sendDeadLetters } from './dead-letter';
import { GroupMembers } from './group-members';
import { partitionLag } from './lag';
import { PartitionedSender } from './partitioned-sender';
import { keyedPartitioner } from './partitioner';
import { sendChunked } from './send-chunked';
import type {
  DeadLetterInput,
  OutgoingRecord,
  PartitionLag,
  SendDeadLettersOptions,
  StreamClient,
} from './stream-client';
import { ensureTopics, type TopicSpec } from './topics';

/**
 * The StreamClient on kafkajs: one client, one idempotent producer, one admin and one group member per
 * (group, topic) per process, opened on first use and shared by every run (opening them per run would
 * cost more than the run itself). `client`, `producer()` and `admin()` are for tools and tests.
 */
export class KafkaStreams implements StreamClient {
  private kafkaClient?: Kafka;
  private producerPromise?: Promise<Producer>;
  private adminPromise?: Promise<Admin>;
  private readonly consumers = new GroupMembers<BoundedConsumer>();
  private readonly ensuredTopics = new Set<string>();

  constructor(
    private readonly config: Pick<Config, 'kafka'>,
    private readonly log: Logger,
  ) {}

  get client(): Kafka {
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
      const producer = this.client.producer({
        idempotent: true,
        maxInFlightRequests: 5,
        createPartitioner: keyedPartitioner,
      });
      await producer.connect();
      return this.retiredOnLostSequence(producer);
    })();
    return this.producerPromise;
  }

  /**
   * kafkajs cannot put an idempotent producer back in step once the brokers refuse its sequence
   * numbers: after a partition leader died mid-send, every later send to that partition failed with
   * OUT_OF_ORDER_SEQUENCE_NUMBER for as long as the process lived (the cluster fault suite; each failed
   * producer run was retried elsewhere and its records written twice). Only a new producer id starts
   * the sequences afresh, so such an error retires this producer: the send fails (its run is retried)
   * and the next send gets a new one.
   */
  private retiredOnLostSequence(producer: Producer): Producer {
    const mine = this.producerPromise;
    const send = producer.send.bind(producer);
    producer.send = async (record) => {
      try {
        return await send(record);
      } catch (error) {
        if (lostSequence(error) && this.producerPromise === mine) {
          this.producerPromise = undefined;
          this.log.warn(
            { err: error, topic: record.topic },
            'Kafka refused the producer’s sequence numbers: starting a new producer',
          );
          void producer.disconnect().catch(() => {});
        }
        throw error;
      }
    };
    return producer;
  }

  admin(): Promise<Admin> {
    this.adminPromise ??= (async () => {
      const admin = this.client.admin();
      await admin.connect();
      return admin;
    })();
    return this.adminPromise;
  }

  /** Creates missing topics once per process; later runs skip the round trip. */
  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const missing = topics.filter((topic) => !this.ensuredTopics.has(topic.name));
    if (missing.length === 0) return;
    await ensureTopics(this.client, missing);
    for (const topic of missing) this.ensuredTopics.add(topic.name);
  }

  /** With traces on, one span for the whole send, and each record carries its run's traceparent. */
  async send(topic: string, records: OutgoingRecord[], signal?: AbortSignal): Promise<Set<number>> {
    const traces = tracing();
    if (!traces) return sendChunked(await this.producer(), topic, records, signal);
    const traced = withTraceparent(records, traces.traceparent());
    return traces.kafkaSend(topic, records.length, async () =>
      sendChunked(await this.producer(), topic, traced, signal),
    );
  }

  /** Dead letters keep their original headers: a traceparent there is the producer run's. */
  async sendDeadLetters(topic: string, inputs: DeadLetterInput[], options?: SendDeadLettersOptions) {
    const send = async () => sendDeadLetters(await this.producer(), topic, inputs, options);
    const traces = tracing();
    return traces ? traces.kafkaSend(topic, inputs.length, send) : send();
  }

  async batchSender(topic: string, signal?: AbortSignal): Promise<PartitionedSender> {
    return PartitionedSender.open(await this.producer(), await this.admin(), topic, signal, tracing());
  }

  async partitionLag(group: string, topic: string): Promise<PartitionLag[]> {
    return partitionLag(await this.admin(), group, topic);
  }

  /**
   * This process's member of `group` for `topic`: joined on first use and kept, so runs do not
   * pay a group rejoin. A consumer kafkajs gave up on is replaced.
   */
  async runConsumer(topic: string, group: string): Promise<BoundedConsumer> {
    return this.consumers.get(topic, group, () => BoundedConsumer.start(this.client, topic, group, this.log));
  }

  async close(): Promise<void> {
    // Consumers first: leaving the group lets the other members take over their partitions now.
    await this.consumers.stopAll();
    const producer = await this.producerPromise?.catch(() => undefined);
    await producer?.disconnect().catch(() => {});
    const admin = await this.adminPromise?.catch(() => undefined);
    await admin?.disconnect().catch(() => {});
  }
}

/** Records as sent with traces on: each carries `traceparent` unless it has one of its own. */
function withTraceparent(records: OutgoingRecord[], traceparent: string | undefined): OutgoingRecord[] {
  if (traceparent === undefined) return records;
  return records.map((record) =>
    record.headers?.traceparent === undefined
      ? { ...record, headers: { ...record.headers, traceparent } }
      : record,
  );
}

/** Errors after which the brokers no longer accept this producer id's sequence numbers. */
const LOST_SEQUENCE = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
]);

/** The error or its cause (kafkajs wraps the broker's error when its retries run out). */
export function lostSequence(error: unknown): boolean {
  for (let current = error; current instanceof Error; current = current.cause) {
    if (LOST_SEQUENCE.has(String((current as { type?: unknown }).type))) return true;
  }
  return false;
}
