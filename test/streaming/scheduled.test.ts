import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { SchedulerTest, waitFor } from '../scheduler/support';

let s: SchedulerTest;
afterEach(async () => {
  await deleteTopics(createKafka(s.config), ['tx', 'dlq', 'alerts'].map(s.t.topic)).catch(() => {});
  await s.cleanup();
});

describe('the main job: producer and consumer schedules through the scheduler (real Kafka, Redis, PostgreSQL)', () => {
  it('scheduled producer runs land, scored once each, in PostgreSQL via scheduled consumer runs', async () => {
    s = new SchedulerTest('main');
    const [tx, dlq, alerts] = ['tx', 'dlq', 'alerts'].map(s.t.topic);
    s.writeSchedules(`topics:
  ${tx}: { partitions: 3 }
schedules:
  producer:
    job: producer-batch
    every: 300ms
    params: { topic: ${tx}, count: 100, malformedRate: 0.05 }
  consumer:
    job: consumer-batch
    every: 300ms
    params: { topic: ${tx}, group: ${s.t.id}, dlqTopic: ${dlq}, alertsTopic: ${alerts}, batchSize: 1000, maxWait: 200 }
`);
    const running = await s.start();
    try {
      await waitFor(
        async () => (await s.runs('consumer')).filter((r) => r.state === 'completed').length >= 5,
        'five consumer runs',
        30_000,
      );
    } finally {
      await s.stop(running);
    }
    const { rows } = await s.db.query<{
      produced: number;
      malformed: number;
      scored: number;
      consumed: number;
    }>(
      `select (select sum((result->>'produced')::int) from job_runs where schedule = 'producer' and state = 'completed') as produced,
              (select sum((result->>'malformed')::int) from job_runs where schedule = 'producer' and state = 'completed') as malformed,
              (select sum((result->>'scored')::int) from job_runs where schedule = 'consumer' and state = 'completed') as scored,
              (select count(*)::int from predictions) as consumed`,
    );
    const totals = rows[0];
    expect(totals?.produced).toBeGreaterThanOrEqual(300);
    // Every scored transaction is one prediction row, none twice.
    expect(totals?.consumed).toBe(totals?.scored);
    expect(totals?.scored).toBeGreaterThan(0);
    expect(totals?.scored).toBeLessThanOrEqual((totals?.produced ?? 0) - (totals?.malformed ?? 0));
    expect((await s.runs()).filter((r) => r.state === 'failed')).toEqual([]);
  });
});
