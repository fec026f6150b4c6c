import type { MessageToProduce, Producer } from '@platformatic/kafka';
import { FULL_BATCH_BYTES, RECORD_OVERHEAD } from '../partitioned-sender';
import { keyPartition } from '../partitioner';
import type { BatchSender } from '../stream-client';

type Outgoing = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/**
 * PartitionedSender's rules (partitioned-sender.ts) on @platformatic/kafka: records sorted into
 * per-partition batches by the shared partitioner (a key lands where kafkajs and the Java client put
 * it), each request one near-full batch per partition, one request in flight while the caller makes
 * the next, so each partition keeps the order of `add`.
 */
export class PlatformaticBatchSender implements BatchSender {
  private batches: Outgoing[][];
  private bytes: number[];
  private inFlight?: Promise<unknown>;
  readonly written = new Set<number>();
  requests = 0;

  constructor(
    private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>,
    readonly topic: string,
    private readonly partitions: number,
    private readonly signal?: AbortSignal,
  ) {
    this.batches = this.emptyBatches();
    this.bytes = this.batches.map(() => 0);
  }

  add(key: string, value: string | Buffer): boolean {
    const partition = keyPartition(key, this.partitions);
    const keyBytes = Buffer.from(key);
    const valueBytes = typeof value === 'string' ? Buffer.from(value) : value;
    (this.batches[partition] as Outgoing[]).push({
      topic: this.topic,
      partition,
      key: keyBytes,
      value: valueBytes,
    });
    const size = (this.bytes[partition] as number) + keyBytes.length + valueBytes.length + RECORD_OVERHEAD;
    this.bytes[partition] = size;
    return size >= FULL_BATCH_BYTES;
  }

  async send(): Promise<void> {
    await this.inFlight;
    this.signal?.throwIfAborted();
    const messages = this.batches.flat();
    this.batches = this.emptyBatches();
    this.bytes = this.batches.map(() => 0);
    if (messages.length === 0) return;
    this.requests++;
    const request = this.producer.send({ messages }).then(({ offsets }) => {
      for (const { partition } of offsets ?? []) this.written.add(partition);
    });
    // Handled when awaited by the next send() or finish(); this only keeps Node from calling it unhandled.
    request.catch(() => {});
    this.inFlight = request;
  }

  async finish(): Promise<void> {
    await this.send();
    await this.inFlight;
  }

  private emptyBatches(): Outgoing[][] {
    return Array.from({ length: this.partitions }, () => []);
  }
}
