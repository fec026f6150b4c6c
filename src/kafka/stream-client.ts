import type { Logger } from '../log/logger';
import type { TopicSpec } from './topics';

/**
 * What jobs may do with Kafka: the one seam between tickflow and its Kafka client. Jobs, the scoring
 * pipeline and the rollups see only these types, so changing the client changes src/kafka and
 * nothing else: KAFKA_CLIENT picks @platformatic/kafka (platformatic/) or kafkajs (kafka-streams.ts),
 * and test/kafka-contract holds both to this contract.
 */
export interface StreamClient {
  /** Creates the topics that do not exist yet (once per process per topic). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /**
   * Sends any number of records in bounded requests (acks from all in-sync replicas); returns the
   * partitions written. Several requests go at once, so records keep no order (batchSender does).
   */
  send(topic: string, records: OutgoingRecord[], signal?: AbortSignal): Promise<Set<number>>;
  /** Sends dead letters so that no input can fail the send for its size (see dead-letter.ts). */
  sendDeadLetters(
    topic: string,
    inputs: DeadLetterInput[],
    options?: SendDeadLettersOptions,
  ): Promise<Record<DeadLetterForm, number>>;
  /** A sender that packs a large keyed stream into the fewest requests, one near-full batch per partition. */
  batchSender(topic: string, signal?: AbortSignal): Promise<BatchSender>;
  /** This process's long-lived member of `group` for `topic`, taking bounded runs. */
  runConsumer(topic: string, group: string): Promise<RunConsumer>;
  /** How far the group is behind on each partition of the topic (its lag: the sum of theirs). */
  partitionLag(group: string, topic: string): Promise<PartitionLag[]>;
}

/** A group's position on one partition, against the partition's end. */
export interface PartitionLag {
  partition: number;
  /** Next offset the group will read (-1: nothing committed yet, it starts at the earliest). */
  committed: number;
  /** Offset of the next message to be written (the high watermark). */
  end: number;
  /** Messages the group has not committed yet: 0 when caught up (nothing committed: from the earliest kept). */
  lag: number;
}

export interface OutgoingRecord {
  key: string | Buffer | null;
  value: string | Buffer | null;
  headers?: Record<string, string | Buffer>;
}

export interface BatchSender {
  /** Queues one record; true when a batch is full and `send()` should be awaited before more. */
  add(key: string, value: string | Buffer): boolean;
  /** Waits for the request in flight, then sends everything queued as the next one. */
  send(): Promise<void>;
  /** Sends what is left and waits until every request is acknowledged. */
  finish(): Promise<void>;
  /** Partitions written so far. */
  readonly written: ReadonlySet<number>;
  /** Requests sent so far. */
  readonly requests: number;
}

export interface RunConsumer {
  /** The partitions this member owns now (changes on rebalance). */
  readonly partitions: number[];
  /**
   * Takes ≤ `max` messages and hands them to `work` piece by piece as they are fetched; commits the
   * offsets only if `work` succeeds, else rewinds so the next run gets the same messages.
   */
  consume<T>(
    options: TakeOptions,
    work: (pieces: AsyncIterable<ConsumedMessage[]>) => Promise<T>,
  ): Promise<T>;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: MessageHeaders;
}

/** Kafka headers as received: a name may repeat, hence the array form. */
export type MessageHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface TakeOptions {
  /** At most this many messages. */
  max: number;
  /**
   * Waits at most this long for a message: an empty run ends after it, and so does a run whose messages
   * stop coming. A run also ends when full, or at once when caught up (every partition at its high watermark,
   * as every broker's fetch after the run began showed).
   */
  maxWaitMs: number;
  signal: AbortSignal;
  /** Messages per piece handed to the run's work (the last piece may be smaller). */
  pieceSize: number;
}

/**
 * Why a message is a dead letter: a stable machine-readable name, the first word of `dlq-reason`.
 * - `too_large`: the value is over the consumer's `maxMessageBytes` (never decoded);
 * - `empty_value`: the value is null or 0 bytes;
 * - `invalid_utf8`: the value is not UTF-8;
 * - `not_json`: UTF-8 but not JSON;
 * - `schema`: JSON that breaks the transaction contract (which fields, and what was expected);
 * - `null_key`: a valid transaction without a key (the contract keys by account id).
 */
export const deadLetterReasons = [
  'too_large',
  'empty_value',
  'invalid_utf8',
  'not_json',
  'schema',
  'null_key',
] as const;
export type DeadLetterReason = (typeof deadLetterReasons)[number];

export interface DeadLetterInput {
  message: ConsumedMessage;
  reason: DeadLetterReason;
  /** For people: what was wrong, e.g. `value is not valid UTF-8 at byte 17`. */
  detail: string;
}

/**
 * How much of the original a dead letter keeps:
 * - `whole`: the original key, value and headers, byte for byte (replayable as is);
 * - `truncated`: the original key and headers, the first TRUNCATED_VALUE_BYTES of the value, and
 *   `dlq-truncated: true` and `dlq-original-size` (the value's bytes);
 * - `minimal`: only the dlq-* headers, the key if short, the first MINIMAL_VALUE_BYTES of the value:
 *   the last resort when even the truncated record is too large (huge key or headers, or a DLQ topic
 *   with a small max.message.bytes). Its size does not depend on the input.
 */
export type DeadLetterForm = 'whole' | 'truncated' | 'minimal';

export interface SendDeadLettersOptions {
  signal?: AbortSignal;
  log?: Logger;
  failedAt?: Date;
}
