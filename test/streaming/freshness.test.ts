import { afterEach, describe, expect, it } from 'vitest';
import type { OperationsView } from '../../src/control/operations';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { FRESHNESS_BUCKETS } from '../../src/metrics/freshness-histogram';
import { SchedulerTest, waitFor } from '../scheduler/support';

/** Both schedules' interval: a producer run stamps event times in its slot, at most this long before it. */
const EVERY_MS = 300;

let s: SchedulerTest;
afterEach(async () => {
  await deleteTopics(createKafka(s.config), ['tx', 'dlq', 'alerts'].map(s.t.topic)).catch(() => {});
  await s.cleanup();
});

interface Counts {
  stored: number;
  alerted: number;
  /** Those whose event time is within the test. */
  storedInTest: number;
  alertedInTest: number;
  oldest: Date;
  failed: number;
}

/** A series' value in a /metrics text, e.g. `tickflow_freshness_seconds_count{stage="stored"}`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (line === undefined) throw new Error(`${series} is not in /metrics`);
  return Number(line.slice(series.length + 1));
}

describe('freshness: event time → stored and → alert published (real Kafka, Redis, PostgreSQL)', () => {
  it('counts every stored transaction and every alert of scheduled runs, in /metrics and on the operations API', async () => {
    const started = Date.now();
    s = new SchedulerTest('fresh');
    const [tx, dlq, alerts] = ['tx', 'dlq', 'alerts'].map(s.t.topic);
    s.writeSchedules(`topics:
  ${tx}: { partitions: 3 }
schedules:
  producer:
    job: producer-batch
    every: ${EVERY_MS}ms
    params: { topic: ${tx}, count: 100, fraudRate: 0.1 }
  consumer:
    job: consumer-batch
    every: ${EVERY_MS}ms
    params: { topic: ${tx}, group: ${s.t.id}, dlqTopic: ${dlq}, alertsTopic: ${alerts}, batchSize: 1000, maxWait: 200 }
`);
    // The scheduler runs the workers here: its /metrics has their runs' freshness.
    const app = await s.start({ web: true });
    const get = (path: string) => fetch(`${app.web?.url}${path}`);
    const post = (path: string) =>
      fetch(`${app.web?.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
    await waitFor(
      async () => (await s.runs('consumer')).filter((r) => r.state === 'completed').length >= 4,
      'four consumer runs',
      30_000,
    );
    // Paused, and the runs under way finished: the counts below stand still.
    for (const schedule of ['producer', 'consumer'])
      expect((await post(`/api/v1/schedules/${schedule}/pause`)).status).toBe(200);
    await waitFor(async () => {
      const { rows } = await s.db.query<{ n: number }>(
        `select count(*)::int as n from runs where finished_at is null`,
      );
      return rows[0]?.n === 0;
    }, 'the runs under way to finish');
    const { rows } = await s.db.query<Counts>(
      `select (select count(*)::int from predictions) as stored,
              (select count(*)::int from fraud_alerts) as alerted,
              (select count(*)::int from transactions where occurred_at >= $1) as "storedInTest",
              (select count(*)::int from fraud_alerts join transactions using (transaction_id)
                where occurred_at >= $1) as "alertedInTest",
              (select min(occurred_at) from transactions) as oldest,
              (select count(*)::int from runs where state = 'failed') as failed`,
      [new Date(started - EVERY_MS)],
    );
    const counts = rows[0] as Counts;
    const now = Date.now();
    // A producer slot starts at most one interval before the test: what it stamps is as old as the
    // test at most. Fraud bursts are stamped minutes back (simulator.ts): the oldest event bounds those.
    const wallSeconds = (now - started + EVERY_MS) / 1_000;
    const oldestSeconds = (now - counts.oldest.getTime()) / 1_000;
    expect(counts.failed).toBe(0);
    expect(counts.storedInTest).toBeGreaterThan(0);
    expect(counts.alertedInTest).toBeGreaterThan(0);

    // The worker reports a finished run to the metrics when it has recorded it.
    let metrics = '';
    await waitFor(async () => {
      metrics = await (await get('/metrics')).text();
      return metrics.includes(`tickflow_freshness_seconds_count{stage="stored"} ${counts.stored}\n`);
    }, 'every stored transaction in tickflow_freshness_seconds');
    expect(metrics).toContain('# TYPE tickflow_freshness_seconds histogram');
    const series = (suffix: string, stage: string, le?: number) =>
      sample(
        metrics,
        `tickflow_freshness_seconds_${suffix}{stage="${stage}"${le === undefined ? '' : `,le="${le}"`}}`,
      );
    // The first exported bound over a duration, allowing for a fine bucket's width (freshness.ts).
    const boundOver = (seconds: number) => FRESHNESS_BUCKETS.find((le) => le >= seconds * 1.1) as number;
    for (const [stage, count, inTest] of [
      ['stored', counts.stored, counts.storedInTest],
      ['alerted', counts.alerted, counts.alertedInTest],
    ] as const) {
      expect(series('count', stage), stage).toBeGreaterThanOrEqual(count);
      expect(series('bucket', stage, boundOver(wallSeconds)), stage).toBeGreaterThanOrEqual(inTest);
      expect(series('bucket', stage, boundOver(oldestSeconds)), stage).toBe(series('count', stage));
      const mean = series('sum', stage) / series('count', stage);
      expect(mean, stage).toBeGreaterThanOrEqual(0);
      expect(mean, stage).toBeLessThanOrEqual(oldestSeconds);
    }

    const view = (await (await get('/api/v1/operations?span=15m')).json()) as OperationsView;
    expect(view.freshness.stored.count).toBe(series('count', 'stored'));
    expect(view.freshness.alerted.count).toBe(series('count', 'alerted'));
    for (const stage of ['stored', 'alerted'] as const) {
      const { p50, p99 } = view.freshness[stage];
      expect(p50, stage).toBeGreaterThanOrEqual(0);
      expect(p99, stage).toBeGreaterThanOrEqual(p50 as number);
      expect(p99, stage).toBeLessThanOrEqual(oldestSeconds * 1.1);
    }
  }, 60_000);
});
