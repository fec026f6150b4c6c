import { describe, expect, it } from 'vitest';
import { keyPartition } from '../partitioner';
import { keyedPartitioner } from './partitioner';

describe('the @platformatic/kafka partitioner', () => {
  it('puts every key where the shared partitioner (and kafkajs) does, once the producer takes the modulo', () => {
    const partitioner = keyedPartitioner();
    for (const partitions of [1, 3, 7, 12]) {
      for (let n = 0; n < 2_000; n++) {
        const key = `ACC-${String(n * 7919).padStart(7, '0')}${n % 3 === 0 ? 'ключ' : ''}`;
        const hash = partitioner({ topic: 't' }, Buffer.from(key), { metadata: undefined });
        expect(hash % partitions, key).toBe(keyPartition(key, partitions));
      }
    }
  });

  it('spreads records without a key over every partition in turn', () => {
    const partitioner = keyedPartitioner();
    const seen = Array.from(
      { length: 6 },
      () => partitioner({ topic: 't' }, undefined, { metadata: undefined }) % 3,
    );
    expect(seen.sort()).toEqual([0, 0, 1, 1, 2, 2]);
  });
});
