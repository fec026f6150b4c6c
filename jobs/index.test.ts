import { describe, expect, it } from 'vitest';
import { jobs } from './index';

describe('messageCountsOf: the result fields tickflow_messages_total adds, by job type', () => {
  it('names the producer’s and the consumer’s message counts', () => {
    expect(jobs.messageCountsOf('producer-batch')).toEqual(['produced', 'fraud', 'malformed']);
    expect(jobs.messageCountsOf('consumer-batch')).toEqual([
      'consumed',
      'valid',
      'invalid',
      'scored',
      'flagged',
      'alerts',
    ]);
  });

  it('counts none of a rollup’s totals (its `flagged` are stored rows, not messages it handled), nor of an unknown type', () => {
    expect(jobs.messageCountsOf('stream-rollup')).toEqual([]);
    expect(jobs.messageCountsOf('sleep')).toEqual([]);
    expect(jobs.messageCountsOf('no-such-job')).toEqual([]);
  });
});
