import { describe, expect, it } from 'vitest';
import type { ConsumedMessage } from '../kafka/stream-client';
import { canonicalTime, RunProgress } from './run-progress';

const taken = (partition: number, offset: string): ConsumedMessage => ({
  topic: 't',
  partition,
  offset,
  key: null,
  value: null,
  headers: {},
});

describe('RunProgress', () => {
  it('records per partition the offset after the last taken and the newest event stored, in partition order', () => {
    const progress = new RunProgress(null);
    progress.taken([taken(2, '7'), taken(0, '41'), taken(2, '8'), taken(0, '42')]);
    progress.taken([taken(1, '9007199254740993')]);
    progress.stored(2, '2025-01-31T12:00:00.500Z', true);
    progress.stored(2, '2025-01-31T12:00:01Z', false);
    progress.stored(2, '2025-01-31T12:00:00.999Z', true);
    progress.stored(0, '2025-01-31T11:00:00.000Z', true);
    expect(progress.partitions()).toEqual([
      { partition: 0, nextOffset: '43', newestEventAt: new Date('2025-01-31T11:00:00.000Z') },
      // Only invalid messages: its offset, no event time.
      { partition: 1, nextOffset: '9007199254740994' },
      { partition: 2, nextOffset: '9', newestEventAt: new Date('2025-01-31T12:00:01.000Z') },
    ]);
    expect(progress.late.size).toBe(0);
  });

  it('counts fresh transactions behind the watermark by second of event time; not redelivered ones, nor one at it', () => {
    const progress = new RunProgress(new Date('2025-01-31T12:00:00.000Z'));
    progress.stored(0, '2025-01-31T11:59:59.999Z', true);
    progress.stored(1, '2025-01-31T11:59:59.1Z', true);
    progress.stored(0, '2025-01-31T11:59:58Z', true);
    progress.stored(0, '2025-01-31T11:59:50.000Z', false);
    progress.stored(0, '2025-01-31T12:00:00.000Z', true);
    progress.stored(0, '2025-01-31T12:00:00.0001Z', true);
    expect([...progress.late]).toEqual([
      [Date.parse('2025-01-31T11:59:59Z'), 2],
      [Date.parse('2025-01-31T11:59:58Z'), 1],
    ]);
  });

  it('compares the forms the contract allows as the times they are', () => {
    expect(canonicalTime('2025-01-31T12:00:00Z')).toBe('2025-01-31T12:00:00.000Z');
    expect(canonicalTime('2025-01-31T12:00:00.5Z')).toBe('2025-01-31T12:00:00.500Z');
    // Below the millisecond: the millisecond below (never later than the time stored).
    expect(canonicalTime('2025-01-31T12:00:00.123999Z')).toBe('2025-01-31T12:00:00.123Z');
    expect(canonicalTime('0001-01-01T00:00:00Z')).toBe('0001-01-01T00:00:00.000Z');
  });
});
