import type { Message, Producer } from 'kafkajs';
import { MAX_BATCH_BYTES } from './partitioned-sender';

/**
 * Bytes per request: the producer's record-batch limit. kafkajs puts one partition's share of a send
 * in one record batch, which must stay under the broker's message.max.bytes even when every message
 * goes to one partition (a DLQ has one) and carries headers: budget by size, not by count.
 */
const CHUNK_BYTES = MAX_BATCH_BYTES;
/** A few sends in flight keep the broker busy while the next request is encoded. */
export const IN_FLIGHT = 4;

/** Roughly what a message adds to a request: key, value, headers and a fixed record overhead. */
export const sizeOf = (message: Message): number => {
  let bytes = 64 + byteLength(message.key) + byteLength(message.value);
  for (const [name, value] of Object.entries(message.headers ?? {})) bytes += name.length + byteLength(value);
  return bytes;
};

function byteLength(value: unknown): number {
  if (value === null || value === undefined) return 0;
  if (Buffer.isBuffer(value)) return value.length;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + byteLength(item), 0);
  return Buffer.byteLength(String(value));
}

/**
 * Splits items into requests of at most `budget` bytes, in order (a single larger item goes alone);
 * `size` is what each adds to a request (a message's by default, a wrapper's message otherwise).
 */
export function chunkBySize<T = Message>(
  items: T[],
  budget = CHUNK_BYTES,
  size: (item: T) => number = sizeOf as (item: T) => number,
): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const message of items) {
    const itemSize = size(message);
    if (current.length > 0 && bytes + itemSize > budget) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(message);
    bytes += itemSize;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Sends any number of messages in bounded requests, IN_FLIGHT at a time, through `sendChunk` (one
 * client's request, resolving to the partitions it wrote); returns the partitions written. Requests
 * in flight together may land in either order (the contract suite saw it with kafkajs): a caller that
 * needs each partition in order uses the batch sender, one request at a time.
 */
export async function sendInChunks<M extends Message>(
  messages: M[],
  sendChunk: (chunk: M[]) => Promise<Iterable<number>>,
  signal?: AbortSignal,
): Promise<Set<number>> {
  const partitions = new Set<number>();
  const chunks = chunkBySize(messages);
  for (let start = 0; start < chunks.length; start += IN_FLIGHT) {
    signal?.throwIfAborted();
    const sends = chunks.slice(start, start + IN_FLIGHT).map(sendChunk);
    for (const written of await Promise.all(sends))
      for (const partition of written) partitions.add(partition);
  }
  return partitions;
}

/** sendInChunks through a kafkajs producer. */
export async function sendChunked(
  producer: Producer,
  topic: string,
  messages: Message[],
  signal?: AbortSignal,
): Promise<Set<number>> {
  return sendInChunks(
    messages,
    async (chunk) => (await producer.send({ topic, messages: chunk })).map((record) => record.partition),
    signal,
  );
}
