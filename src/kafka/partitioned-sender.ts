import type { Admin, Message, PartitionMetadata, Producer } from 'kafkajs';
import type { Tracing } from '../telemetry/tracing';
import { keyPartition } from './partitioner';
import type { BatchSender } from './stream-client';

/**
 * The most bytes one partition's record batch may hold. A record batch is one Kafka "message" to the
 * broker and must stay under its message.max.bytes (1,048,588 by default): this leaves room for the
 * batch header and for any estimate error below.
 */
export const MAX_BATCH_BYTES = 512 * 1024;
/** Per-record framing beyond key and value: length, attributes, deltas, key/value lengths, headers. */
export const RECORD_OVERHEAD = 16;
/** Per header beyond its name and value: their two lengths and the header count. */
const HEADER_OVERHEAD = 8;
/** A partition's batch this full goes in the next request (`add` says so): another record might not fit. */
export const FULL_BATCH_BYTES = MAX_BATCH_BYTES * 0.95;

/**
 * A message as kafkajs will spread it: it encodes each record as `{ ...message, offsetDelta,
 * timestampDelta }`, and in V8 a spread followed by new fields takes a slow path (~1–2 µs a message).
 * With both fields already present the spread is a plain copy. kafkajs overwrites their values.
 */
interface OutgoingMessage extends Message {
  key: string;
  value: string | Buffer;
  partition: number;
  offsetDelta: number;
  timestampDelta: number;
}

/**
 * Sends a large stream of keyed messages to one topic in the fewest requests the broker accepts:
 * messages are sorted into per-partition batches (the default partitioner's choice, so a key lands
 * where kafkajs would put it), and each request carries one near-full batch per partition. One
 * request is in flight while the caller makes the next one's messages. Requests go out strictly one
 * after another, so each partition keeps the order of `add` (the idempotent producer serialises
 * requests to a broker anyway).
 */
export class PartitionedSender implements BatchSender {
  private batches: OutgoingMessage[][];
  private bytes: number[];
  private inFlight?: Promise<unknown>;
  readonly written = new Set<number>();
  requests = 0;
  /**
   * With traces on, every record's headers: the traceparent of the run that opened the sender (one
   * object shared by all of them), and what it adds to a record's size. Off, records have no headers.
   */
  private readonly headers?: { traceparent: Buffer };
  private readonly headerBytes: number = 0;

  private constructor(
    private readonly producer: Producer,
    readonly topic: string,
    private readonly partitionMetadata: PartitionMetadata[],
    private readonly signal?: AbortSignal,
    private readonly traces?: Tracing,
  ) {
    this.batches = partitionMetadata.map(() => []);
    this.bytes = partitionMetadata.map(() => 0);
    const traceparent = traces?.traceparent();
    if (traceparent !== undefined) {
      // As bytes once: kafkajs would encode a string again for every record.
      this.headers = { traceparent: Buffer.from(traceparent) };
      this.headerBytes = 'traceparent'.length + traceparent.length + HEADER_OVERHEAD;
    }
  }

  static async open(producer: Producer, admin: Admin, topic: string, signal?: AbortSignal, traces?: Tracing) {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const partitions = topics[0]?.partitions ?? [];
    if (partitions.length === 0) throw new Error(`Kafka topic ${topic} has no partitions (does it exist?)`);
    return new PartitionedSender(
      producer,
      topic,
      [...partitions].sort((a, b) => a.partitionId - b.partitionId),
      signal,
      traces,
    );
  }

  /** Queues one message; true when a batch is full and `send()` should be awaited before more. */
  add(key: string, value: string | Buffer): boolean {
    const partition = this.partitionOf(key);
    const batch = this.batches[partition] as OutgoingMessage[];
    // A Buffer's length is its byte count. A string's is for ASCII-heavy JSON but for rare multi-byte
    // characters, which the headroom in MAX_BATCH_BYTES absorbs up to 3 bytes each on a few per cent of them.
    let size = (this.bytes[partition] as number) + key.length + value.length + RECORD_OVERHEAD;
    // Traces off, one branch: the same record as before tracing existed, with no headers field.
    if (this.headers) {
      batch.push({ key, value, headers: this.headers, partition, offsetDelta: 0, timestampDelta: 0 });
      size += this.headerBytes;
    } else batch.push({ key, value, partition, offsetDelta: 0, timestampDelta: 0 });
    this.bytes[partition] = size;
    return size >= FULL_BATCH_BYTES;
  }

  /** Waits for the request in flight, then sends everything queued as the next one (not awaited). */
  async send(): Promise<void> {
    await this.inFlight;
    this.signal?.throwIfAborted();
    const messages = this.batches.flat();
    this.batches = this.partitionMetadata.map(() => []);
    this.bytes = this.partitionMetadata.map(() => 0);
    if (messages.length === 0) return;
    this.requests++;
    const send = () => this.producer.send({ topic: this.topic, messages });
    const request = (this.traces ? this.traces.kafkaSend(this.topic, messages.length, send) : send()).then(
      (records) => {
        for (const record of records) this.written.add(record.partition);
      },
    );
    // Handled when awaited by the next send() or finish(); this only keeps Node from calling it unhandled.
    request.catch(() => {});
    this.inFlight = request;
  }

  /** Sends what is left and waits until every request is acknowledged. */
  async finish(): Promise<void> {
    await this.send();
    await this.inFlight;
  }

  /**
   * Not cached per key: with a population of millions of accounts nearly every key of a run is new,
   * so a cache only grows; murmur2 of an account id costs less than the map.
   */
  private partitionOf(key: string): number {
    return keyPartition(key, this.partitionMetadata.length);
  }
}
