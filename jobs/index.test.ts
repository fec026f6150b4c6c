import { describe, expect, it } from 'vitest';
import { jobs } from './index';

describe('overridableOf: the params a trigger may change when the schedule lists none', () => {
  it('are harmless sizes and counts, never a destination (topic, group, URL)', () => {
    expect(jobs.overridableOf('producer-batch')).toEqual(['count', 'seed', 'fraudRate']);
    expect(jobs.overridableOf('consumer-batch')).toEqual(['batchSize', 'maxWait']);
    expect(jobs.overridableOf('stream-rollup')).toEqual(['windowEnd']);
    expect(jobs.overridableOf('sleep')).toEqual(['ms', 'failAttempts', 'permanent']);
    for (const name of jobs.names()) {
      const allowed = jobs.overridableOf(name);
      expect(
        allowed.every((param) => jobs.paramNames(name).includes(param)),
        name,
      ).toBe(true);
      expect(
        allowed.filter((param) => /topic|group|url|predictor/i.test(param)),
        name,
      ).toEqual([]);
    }
  });
});

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
