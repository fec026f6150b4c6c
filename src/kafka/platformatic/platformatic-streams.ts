import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import type { Config } from '../../config/config';
import type { Logger } from '../../log/logger';
import { sendDeadLettersWith } from '../dead-letter';
import { GroupMembers } from '../group-members';
import { isKafkaError } from '../kafka-errors';
import { sendInChunks } from '../send-chunked';
import type {
  DeadLetterInput,
  OutgoingRecord,
  PartitionLag,
  SendDeadLettersOptions,
  StreamClient,
} from '../stream-client';
import type { TopicSpec } from '../topics';
import { PlatformaticBatchSender } from './batch-sender';
import { PlatformaticBoundedConsumer } from './bounded-consumer';
import { platformaticOptions } from './client';
import { keyedPartitioner } from './partitioner';
import { type RecordToSend, toProduce } from './records';

type Bytes = Buffer;

/** Timestamps ListOffsets understands: the next offset to be written, and the earliest kept. */
const LATEST = -1n;
const EARLIEST = -2n;

/**
 * The StreamClient on @platformatic/kafka (KAFKA_CLIENT=platformatic), with the guarantees of the
 * kafkajs one (kafka-streams.ts): one idempotent producer acknowledged by all in-sync replicas, one
 * admin and one group member per (group, topic) per process, opened on first use and shared by every
 * run. Sizing, partitioning and dead-letter rules are the shared ones in src/kafka.
 */
export class PlatformaticStreams implements StreamClient {
  private producerClient?: Producer<Bytes, Bytes, Bytes, Bytes>;
  private adminClient?: Admin;
  private readonly consumers = new GroupMembers<PlatformaticBoundedConsumer>();
  private readonly ensuredTopics = new Set<string>();

  constructor(
    private readonly config: Pick<Config, 'kafka'>,
    private readonly log: Logger,
  ) {}

  /**
   * Idempotent: its own retries cannot duplicate or reorder messages within a partition. Retries are
   * bounded (client.ts), so a send can still fail after a long outage; the run then fails and its
   * messages come again (at-least-once; consumers dedupe by key).
   */
  get producer(): Producer<Bytes, Bytes, Bytes, Bytes> {
    this.producerClient ??= new Producer<Bytes, Bytes, Bytes, Bytes>({
      ...platformaticOptions(this.config),
      idempotent: true,
      acks: ProduceAcks.ALL,
      partitioner: keyedPartitioner(),
    });
    return this.producerClient;
  }

  get admin(): Admin {
    this.adminClient ??= new Admin(platformaticOptions(this.config));
    return this.adminClient;
  }

  /** Creates missing topics once per process, and waits for their leaders; later runs skip the round trip. */
  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    const missing = topics.filter((topic) => !this.ensuredTopics.has(topic.name));
    if (missing.length === 0) return;
    const existing = new Set(await this.admin.listTopics());
    for (const topic of missing.filter(({ name }) => !existing.has(name))) {
      await this.admin
        .createTopics({
          topics: [topic.name],
          partitions: topic.partitions,
          replicas: 1,
          configs: topicConfigs(topic),
        })
        .catch((error: unknown) => {
          // Another process created it meanwhile: as good as ours.
          if (!isKafkaError(error, 'TOPIC_ALREADY_EXISTS')) throw error;
        });
    }
    await this.waitForLeaders(missing.map((topic) => topic.name));
    for (const topic of missing) this.ensuredTopics.add(topic.name);
  }

  async send(topic: string, records: OutgoingRecord[], signal?: AbortSignal): Promise<Set<number>> {
    return sendInChunks(records, (chunk) => this.sendRequest(topic, chunk), signal);
  }

  async sendDeadLetters(topic: string, inputs: DeadLetterInput[], options?: SendDeadLettersOptions) {
    return sendDeadLettersWith((records) => this.sendRequest(topic, records), topic, inputs, options);
  }

  async batchSender(topic: string, signal?: AbortSignal): Promise<PlatformaticBatchSender> {
    return new PlatformaticBatchSender(this.producer, topic, await this.partitionCount(topic), signal);
  }

  async partitionLag(group: string, topic: string): Promise<PartitionLag[]> {
    const partitions = Array.from({ length: await this.partitionCount(topic) }, (_, i) => i);
    const [ends, starts, [committed]] = await Promise.all([
      this.offsetsAt(topic, partitions, LATEST),
      this.offsetsAt(topic, partitions, EARLIEST),
      this.admin.listConsumerGroupOffsets({
        groups: [{ groupId: group, topics: [{ name: topic, partitionIndexes: partitions }] }],
      }),
    ]);
    const committedBy = new Map(
      committed?.topics
        .find((t) => t.name === topic)
        ?.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset)]) ?? [],
    );
    return partitions.map((partition) => {
      const position = committedBy.get(partition) ?? -1;
      const end = ends.get(partition) ?? 0;
      const from = position < 0 ? (starts.get(partition) ?? 0) : position;
      return { partition, committed: position, end, lag: end - from };
    });
  }

  /**
   * This process's member of `group` for `topic`: joined on first use and kept, so runs do not pay a
   * group rejoin. A member the client gave up on is replaced.
   */
  async runConsumer(topic: string, group: string): Promise<PlatformaticBoundedConsumer> {
    return this.consumers.get(topic, group, () =>
      PlatformaticBoundedConsumer.start(platformaticOptions(this.config), topic, group, this.log),
    );
  }

  async close(): Promise<void> {
    // Consumers first: leaving the group lets the other members take over their partitions now.
    await this.consumers.stopAll();
    await this.producerClient?.close().catch(() => {});
    await this.adminClient?.close().catch(() => {});
  }

  /** One produce request; resolves to the partitions it wrote. */
  private async sendRequest(topic: string, records: RecordToSend[]): Promise<number[]> {
    const { offsets } = await this.producer.send({
      messages: records.map((record) => toProduce(topic, record)),
    });
    return (offsets ?? []).map(({ partition }) => partition);
  }

  private async partitionCount(topic: string): Promise<number> {
    const metadata = await this.admin.metadata({ topics: [topic], forceUpdate: true });
    const count = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (count === 0) throw new Error(`Kafka topic ${topic} has no partitions (does it exist?)`);
    return count;
  }

  private async offsetsAt(
    topic: string,
    partitions: number[],
    timestamp: bigint,
  ): Promise<Map<number, number>> {
    const [listed] = await this.admin.listOffsets({
      topics: [
        { name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) },
      ],
    });
    return new Map(listed?.partitions.map((p) => [p.partitionIndex, Number(p.offset)]) ?? []);
  }

  /** A new topic's partitions may have no leader for a moment; a send then would wait out retries. */
  private async waitForLeaders(topics: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const metadata = await this.admin.metadata({ topics, forceUpdate: true }).catch(() => undefined);
      const led = topics.every((name) => {
        const partitions = metadata?.topics.get(name)?.partitions ?? [];
        return partitions.length > 0 && partitions.every((p) => p.leader >= 0);
      });
      if (led) return;
      if (attempt >= 50) throw new Error(`Kafka topics ${topics.join(', ')} have no leader after 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function topicConfigs(topic: TopicSpec): { name: string; value: string }[] {
  return [
    ...(topic.retentionMs === undefined ? [] : [{ name: 'retention.ms', value: String(topic.retentionMs) }]),
    ...(topic.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
  ];
}
