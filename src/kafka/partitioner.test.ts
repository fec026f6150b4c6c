import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { keyedPartitioner, keyPartition, murmur2 } from './partitioner';

// kafkajs's own murmur2 (not exported from its entry point): the reference the fast one must match.
const kafkajsMurmur2 = createRequire(import.meta.url)(
  'kafkajs/src/producer/partitioners/default/murmur2',
) as (key: string | Buffer) => number;

const keys = [
  '',
  'a',
  'ab',
  'abc',
  'abcd',
  'ACC-0000001',
  'acc-3999999',
  'Nairobi – Mombasa',
  'ключ',
  '日本語のキー',
  '😀 emoji',
  ...Array.from({ length: 5_000 }, (_, n) => `ACC-${String(n * 7919).padStart(7, '0')}${'x'.repeat(n % 9)}`),
];

describe('murmur2', () => {
  it('matches kafkajs (and so the Java client) for ASCII, multi-byte and every length modulo 4', () => {
    for (const key of keys) expect(murmur2(key), key).toBe(kafkajsMurmur2(key));
  });

  it('hashes a Buffer like the string it encodes', () => {
    for (const key of keys.slice(0, 20)) expect(murmur2(Buffer.from(key))).toBe(kafkajsMurmur2(key));
  });

  it('puts a key on the partition kafkajs would', () => {
    for (const key of keys) expect(keyPartition(key, 3)).toBe((kafkajsMurmur2(key) & 0x7fffffff) % 3);
  });
});

describe('keyedPartitioner', () => {
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    partitionErrorCode: 0,
  }));
  const partition = keyedPartitioner();

  it('keeps a partition the record names', () => {
    expect(
      partition({ topic: 't', partitionMetadata, message: { key: 'abc', value: null, partition: 2 } }),
    ).toBe(2);
  });

  it('places a keyed record by its key', () => {
    expect(partition({ topic: 't', partitionMetadata, message: { key: 'ACC-42', value: null } })).toBe(
      keyPartition('ACC-42', 3),
    );
  });

  it('spreads records without a key over the partitions', () => {
    const seen = new Set(
      Array.from({ length: 6 }, () => partition({ topic: 't', partitionMetadata, message: { value: 'v' } })),
    );
    expect(seen.size).toBe(3);
  });
});
