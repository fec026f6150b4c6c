import type { Message, Producer } from 'kafkajs';

/**
 * Messages per request. kafkajs puts one partition's share of a send in one record batch, which must
 * stay under the broker's 1 MB message.max.bytes: 2,000 transactions of ~400 bytes fit even when
 * they all go to one partition (a DLQ has one).
 */
const CHUNK = 2_000;
/** A few sends in flight keep the broker busy while the next request is encoded. */
const IN_FLIGHT = 4;

/**
 * Sends any number of messages in bounded requests; returns the partitions written. The idempotent
 * producer's sequence numbers keep each partition in order with several requests in flight.
 */
export async function sendChunked(
  producer: Producer,
  topic: string,
  messages: Message[],
  signal?: AbortSignal,
): Promise<Set<number>> {
  const partitions = new Set<number>();
  for (let start = 0; start < messages.length; start += CHUNK * IN_FLIGHT) {
    signal?.throwIfAborted();
    const sends = [];
    for (let offset = start; offset < Math.min(start + CHUNK * IN_FLIGHT, messages.length); offset += CHUNK)
      sends.push(producer.send({ topic, messages: messages.slice(offset, offset + CHUNK) }));
    for (const record of (await Promise.all(sends)).flat()) partitions.add(record.partition);
  }
  return partitions;
}
