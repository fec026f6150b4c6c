import type { Partitioner } from '@platformatic/kafka';
import { murmur2 } from '../partitioner';

/**
 * The shared partitioner (../partitioner.ts) for @platformatic/kafka, so a key lands on the same
 * partition with either client. Its own default differs: `murmur2 >>> 0` instead of Kafka's
 * `murmur2 & 0x7fffffff`. The producer takes the result modulo the partition count itself (it knows
 * the count only after this call), so this returns the positive hash, or a round-robin counter for
 * a record without a key.
 */
export function keyedPartitioner(): Partitioner<Buffer, Buffer, Buffer, Buffer> {
  let next = 0;
  return (_message, key) => {
    if (key !== undefined) return murmur2(key) & 0x7fffffff;
    next = (next + 1) & 0x7fffffff;
    return next;
  };
}
