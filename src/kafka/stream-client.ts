import type { ConsumedMessage, TakeOptions } from './bounded-consumer';
import type { DeadLetterForm, DeadLetterInput, SendDeadLettersOptions } from './dead-letter';
import type { TopicSpec } from './topics';

/**
 * What jobs may do with Kafka: the one seam between tickflow and its Kafka client. Jobs, the scoring
 * pipeline and the rollups see only these types, so changing the client (kafkajs today) changes
 * src/kafka and nothing else.
 */
export interface StreamClient {
  /** Creates the topics that do not exist yet (once per process per topic). */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Sends any number of records in bounded requests (acks from all in-sync replicas); returns the partitions written. */
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
  /** Messages the group has not committed yet, over the topic's partitions. */
  lag(group: string, topic: string): Promise<number>;
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
  /**
   * Takes ≤ `max` messages and hands them to `work` piece by piece as they are fetched; commits the
   * offsets only if `work` succeeds, else rewinds so the next run gets the same messages.
   */
  consume<T>(
    options: TakeOptions,
    work: (pieces: AsyncIterable<ConsumedMessage[]>) => Promise<T>,
  ): Promise<T>;
}
