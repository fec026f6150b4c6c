import { describe, expect, it } from 'vitest';
import { chunkBySize, sizeOf } from './send-chunked';

describe('chunkBySize', () => {
  it('keeps every request under the byte budget, headers included, and loses no message', () => {
    const messages = Array.from({ length: 3_000 }, (_, i) => ({
      key: `k${i}`,
      value: 'x'.repeat(400),
      headers: { 'dlq-reason': 'invalid transaction: amount: expected an amount above 0' },
    }));
    const chunks = chunkBySize(messages, 100_000);
    expect(chunks.flat()).toEqual(messages);
    for (const chunk of chunks) {
      expect(chunk.reduce((sum, m) => sum + sizeOf(m), 0)).toBeLessThanOrEqual(100_000);
    }
    // 3,000 messages of ~530 bytes each (the header counts) need at least 16 requests of 100 kB.
    expect(chunks.length).toBeGreaterThanOrEqual(16);
  });

  it('sends a message larger than the budget on its own', () => {
    const chunks = chunkBySize([{ value: 'a' }, { value: 'b'.repeat(2_000) }, { value: 'c' }], 1_000);
    expect(chunks.map((c) => c.length)).toEqual([1, 1, 1]);
  });
});
