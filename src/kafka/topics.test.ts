import { describe, expect, it } from 'vitest';
import { replicationOf } from './topics';

describe('replicationOf', () => {
  it('defaults to min(3, brokers) replicas, with one fewer in sync (at least 1)', () => {
    expect(replicationOf({ name: 't', partitions: 3 }, 1)).toEqual({ replicas: 1, minInSync: 1 });
    expect(replicationOf({ name: 't', partitions: 3 }, 2)).toEqual({ replicas: 2, minInSync: 1 });
    expect(replicationOf({ name: 't', partitions: 3 }, 3)).toEqual({ replicas: 3, minInSync: 2 });
    expect(replicationOf({ name: 't', partitions: 3 }, 5)).toEqual({ replicas: 3, minInSync: 2 });
  });

  it('takes the file’s replicas, and names the field and the limit when the cluster is too small', () => {
    expect(replicationOf({ name: 't', partitions: 3, replicas: 5 }, 5)).toEqual({
      replicas: 5,
      minInSync: 4,
    });
    expect(() => replicationOf({ name: 'alerts', partitions: 3, replicas: 3 }, 1)).toThrow(
      'topics.alerts.replicas is 3 but the Kafka cluster has 1 broker: lower replicas to at most 1',
    );
  });
});
