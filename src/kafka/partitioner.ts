import { type ICustomPartitioner, Partitioners } from 'kafkajs';

/**
 * The partition of a keyed record: Kafka's default rule (murmur2 of the key's UTF-8 bytes, made
 * positive, modulo the partition count), so a key lands where the Java client and kafkajs put it.
 * kafkajs computes murmur2 with 64-bit Long objects (a dozen allocations a key, ~1.6 µs); this is
 * the same 32-bit arithmetic with Math.imul, and reads an ASCII key's characters without encoding it.
 */
export function keyPartition(key: string | Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

export function murmur2(key: string | Uint8Array): number {
  const data = typeof key === 'string' ? (isAscii(key) ? key : Buffer.from(key)) : key;
  const byteAt =
    typeof data === 'string' ? (i: number) => data.charCodeAt(i) : (i: number) => data[i] as number;
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = byteAt(i) | (byteAt(i + 1) << 8) | (byteAt(i + 2) << 16) | (byteAt(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= byteAt(whole + 2) << 16;
  if (rest >= 2) h ^= byteAt(whole + 1) << 8;
  if (rest >= 1) h = Math.imul(h ^ byteAt(whole), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  return h ^ (h >>> 15);
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * kafkajs's default partitioner with the fast hash: a record's own partition if it has one, else
 * its key's, else kafkajs's round robin. (kafkajs's own also filters the partition list on every
 * call, even for records that name their partition.)
 */
export const keyedPartitioner: ICustomPartitioner = () => {
  const roundRobin = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.partition !== undefined && message.partition !== null) return message.partition;
    if (message.key !== undefined && message.key !== null)
      return keyPartition(message.key, partitionMetadata.length);
    return roundRobin(args);
  };
};
