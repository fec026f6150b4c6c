import { readFileSync } from 'node:fs';
import type { MetricValue } from '@prometheus-io/client';
import type { Queue } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { defaultJobs as jobs } from '../app/jobs';
import { intervalSeconds, Metrics } from './metrics';

const FINISHED_AT = 1_700_000_000_000;

/** Just what Metrics reads of a BullMQ queue when scraped. */
function fakeQueue(
  name: string,
  scheduler: { every?: string; pattern?: string; tz?: string } | undefined,
  finishedOn?: number,
): Queue {
  return {
    name,
    getJobCounts: async () => ({ waiting: 1, active: 0, delayed: 1, failed: 0, completed: 3 }),
    isPaused: async () => false,
    getJobScheduler: async () => scheduler,
    getJobs: async () => (finishedOn ? [{ finishedOn }, { finishedOn: finishedOn - 5_000 }] : []),
  } as unknown as Queue;
}

const PRODUCED = jobs.messageCountsOf('producer-batch');
const CONSUMED = jobs.messageCountsOf('consumer-batch');

/** A Metrics with a run and a result of each streaming job, so that every series exists. */
function recordedMetrics(): Metrics {
  const metrics = new Metrics(() => [
    fakeQueue('producer', { every: '1000' }, FINISHED_AT),
    fakeQueue('heartbeat', { pattern: '*/30 * * * * *', tz: 'UTC' }, FINISHED_AT),
    fakeQueue('removed', undefined),
  ]);
  metrics.recordRun('producer', 'completed', 0.2, {
    startDelaySeconds: 0.004,
    result: { produced: 200, fraud: 10, malformed: 0, bytes: 81_000, seed: 'abc', durationMs: 180 },
    messageCounts: PRODUCED,
  });
  metrics.recordRun('consumer', 'completed', 0.6, {
    startDelaySeconds: 0.002,
    result: { consumed: 200, valid: 198, invalid: 2, scored: 198, flagged: 9, alerts: 9, lagAfter: 42 },
    messageCounts: CONSUMED,
  });
  metrics.recordRun('consumer', 'failed', 0.1, {});
  return metrics;
}

async function valuesOf(metrics: Metrics, name: string) {
  const metric = metrics.registry.getSingleMetric(name);
  if (!metric) throw new Error(`${name} is not registered`);
  return (await metric.get()).values;
}

function sampleValue(
  values: (MetricValue<string> & { metricName?: string })[],
  labels: Record<string, string | number>,
  metricName?: string,
): number | undefined {
  return values.find(
    (v) =>
      (metricName === undefined || v.metricName === metricName) &&
      Object.entries(labels).every(([key, value]) => v.labels[key] === value),
  )?.value;
}

/** Every metric name of tickflow's own or of the standard process and Node.js ones in a text (PromQL, descriptions). */
const metricNames = (text: string) => new Set(text.match(/\b(?:tickflow|process|nodejs)_[a-z0-9_]+/g) ?? []);

describe('the metrics the operations kit names', () => {
  const dashboard = readFileSync(
    new URL('../../ops/grafana/tickflow-dashboard.json', import.meta.url),
    'utf8',
  );
  const alerts = readFileSync(new URL('../../ops/prometheus/alerts.yml', import.meta.url), 'utf8');

  it('finds the names to check in the dashboard and the alert rules', () => {
    JSON.parse(dashboard);
    parse(alerts);
    expect(metricNames(dashboard).size).toBeGreaterThan(10);
    expect(metricNames(alerts).size).toBeGreaterThan(4);
  });

  it.each([
    ['ops/grafana/tickflow-dashboard.json', dashboard],
    ['ops/prometheus/alerts.yml', alerts],
  ])('every metric %s names is exported by /metrics', async (_file, text) => {
    const exposition = await recordedMetrics().registry.metrics();
    // Families (`# TYPE name histogram`) and the samples exported (name_bucket, name_sum, name_count, …).
    const families = [...exposition.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    const samples = [...exposition.matchAll(/^([a-z0-9_]+)[{ ]/gm)].map((m) => m[1]);
    const exported = new Set([...families, ...samples]);
    const missing = [...metricNames(text)].filter((name) => !exported.has(name));
    expect(missing).toEqual([]);
  });
});

describe('the default metrics', () => {
  // What stock Node.js dashboards (e.g. Grafana's "NodeJS Application Dashboard") query, unprefixed.
  it.each([
    'process_cpu_user_seconds_total',
    'process_cpu_system_seconds_total',
    'process_resident_memory_bytes',
    'process_start_time_seconds',
    'nodejs_eventloop_lag_seconds',
    'nodejs_eventloop_lag_p99_seconds',
    'nodejs_active_handles_total',
    'nodejs_active_requests_total',
    'nodejs_heap_size_used_bytes',
    'nodejs_heap_size_total_bytes',
    'nodejs_heap_space_size_used_bytes',
    'nodejs_external_memory_bytes',
    'nodejs_version_info',
  ])('has the standard name %s', async (name) => {
    const exposition = await new Metrics(() => []).registry.metrics();
    expect(exposition).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
  });
});

describe('Metrics', () => {
  it('counts the messages of a completed run by kind, and sets the consumer lag', async () => {
    const metrics = recordedMetrics();
    const messages = await valuesOf(metrics, 'tickflow_messages_total');
    expect(sampleValue(messages, { schedule: 'producer', kind: 'produced' })).toBe(200);
    expect(sampleValue(messages, { schedule: 'producer', kind: 'fraud' })).toBe(10);
    expect(sampleValue(messages, { schedule: 'consumer', kind: 'invalid' })).toBe(2);
    expect(sampleValue(messages, { schedule: 'consumer', kind: 'flagged' })).toBe(9);
    // bytes, durationMs and seed are not message counts.
    expect(messages.map((v) => v.labels.kind)).not.toContain('bytes');
    expect(messages.map((v) => v.labels.kind)).not.toContain('durationMs');
    expect(sampleValue(await valuesOf(metrics, 'tickflow_consumer_lag'), { schedule: 'consumer' })).toBe(42);

    metrics.recordResult('consumer', { consumed: 50, lagAfter: 7 }, CONSUMED);
    expect(sampleValue(await valuesOf(metrics, 'tickflow_messages_total'), { kind: 'consumed' })).toBe(250);
    expect(sampleValue(await valuesOf(metrics, 'tickflow_consumer_lag'), { schedule: 'consumer' })).toBe(7);
  });

  it("adds a completed consumer run's freshness to tickflow_freshness_seconds by stage", async () => {
    const metrics = new Metrics(() => []);
    const freshness = {
      stored: { count: 3, sumSeconds: 0.9, buckets: { '250': 2, '400': 1 } },
      alerted: { count: 1, sumSeconds: 0.5, buckets: { '500': 1 } },
    };
    metrics.recordRun('consumer', 'completed', 0.3, { result: { consumed: 3, freshness } });
    metrics.recordRun('consumer', 'completed', 0.3, { result: { consumed: 3, freshness } });
    const values = await valuesOf(metrics, 'tickflow_freshness_seconds');
    const bucket = 'tickflow_freshness_seconds_bucket';
    expect(sampleValue(values, { stage: 'stored', le: 0.25 }, bucket)).toBe(4);
    expect(sampleValue(values, { stage: 'stored', le: 0.5 }, bucket)).toBe(6);
    expect(sampleValue(values, { stage: 'alerted', le: 0.25 }, bucket)).toBe(0);
    expect(sampleValue(values, { stage: 'alerted' }, 'tickflow_freshness_seconds_count')).toBe(2);
    expect(sampleValue(values, { stage: 'stored' }, 'tickflow_freshness_seconds_sum')).toBeCloseTo(1.8);
  });

  it('keeps the last lag when a run could not read it, and ignores what is not a count', async () => {
    const metrics = new Metrics(() => []);
    metrics.recordResult('consumer', { consumed: 10, lagAfter: 100 }, CONSUMED);
    metrics.recordResult(
      'consumer',
      { consumed: -1, invalid: Number.NaN, flagged: '3', lagAfter: null },
      CONSUMED,
    );
    metrics.recordResult('consumer', null, CONSUMED);
    metrics.recordResult('consumer', 'done', CONSUMED);
    const messages = await valuesOf(metrics, 'tickflow_messages_total');
    expect(messages).toEqual([
      expect.objectContaining({ labels: { schedule: 'consumer', kind: 'consumed' }, value: 10 }),
    ]);
    expect(sampleValue(await valuesOf(metrics, 'tickflow_consumer_lag'), { schedule: 'consumer' })).toBe(100);
  });

  it("counts only the fields the run's job type names, whatever another result calls its fields", async () => {
    const metrics = new Metrics(() => []);
    // A rollup's totals share names with the consumer's counts, but count stored rows, not messages.
    metrics.recordRun('rollup-5m', 'completed', 0.3, { result: { transactions: 300, flagged: 15 } });
    metrics.recordRun('consumer', 'completed', 0.3, {
      result: { consumed: 20, flagged: 2, transactions: 20 },
      messageCounts: CONSUMED,
    });
    const messages = await valuesOf(metrics, 'tickflow_messages_total');
    expect(messages.map((v) => [v.labels.schedule, v.labels.kind, v.value])).toEqual([
      ['consumer', 'consumed', 20],
      ['consumer', 'flagged', 2],
    ]);
  });

  it("reads each consumer schedule's watermark at scrape time: now − watermark; none yet or unreadable: left out", async () => {
    let read = async () =>
      new Map<string, Date | null>([
        ['consumer', new Date(Date.now() - 12_000)],
        ['other-consumer', null],
      ]);
    const metrics = new Metrics(
      () => [],
      () => read(),
    );
    const values = await valuesOf(metrics, 'tickflow_watermark_lag_seconds');
    expect(values.map((v) => v.labels.schedule)).toEqual(['consumer']);
    expect(sampleValue(values, { schedule: 'consumer' })).toBeGreaterThanOrEqual(12);
    expect(sampleValue(values, { schedule: 'consumer' })).toBeLessThan(13);
    read = () => Promise.reject(new Error('PostgreSQL is down'));
    expect(await valuesOf(metrics, 'tickflow_watermark_lag_seconds')).toEqual([]);
    expect(new Metrics(() => []).registry.getSingleMetric('tickflow_watermark_lag_seconds')).toBeUndefined();
  });

  it('counts the result of a completed attempt only', async () => {
    const metrics = new Metrics(() => []);
    metrics.recordRun('consumer', 'failed', 1, { result: { consumed: 5 }, messageCounts: CONSUMED });
    expect(await valuesOf(metrics, 'tickflow_messages_total')).toEqual([]);
    const runs = await valuesOf(metrics, 'tickflow_runs_total');
    expect(sampleValue(runs, { schedule: 'consumer', state: 'failed' })).toBe(1);
  });

  it('observes the start delay in fine buckets; an early start counts as on time', async () => {
    const metrics = new Metrics(() => []);
    metrics.recordRun('producer', 'completed', 0.1, { startDelaySeconds: 0.0015 });
    metrics.recordRun('producer', 'completed', 0.1, { startDelaySeconds: -0.003 });
    metrics.recordRun('producer', 'completed', 0.1, { startDelaySeconds: 3 });
    metrics.recordRun('producer', 'failed', 0.1, { startDelaySeconds: Number.NaN });
    metrics.recordRun('producer', 'completed', 0.1); // a retry: no start delay
    const delay = await valuesOf(metrics, 'tickflow_run_start_delay_seconds');
    const bucket = (le: number | string) =>
      sampleValue(delay, { schedule: 'producer', le }, 'tickflow_run_start_delay_seconds_bucket');
    expect(bucket(0.001)).toBe(1);
    expect(bucket(0.0025)).toBe(2);
    expect(bucket(2.5)).toBe(2);
    expect(bucket(5)).toBe(3);
    expect(bucket('+Inf')).toBe(3);
    expect(sampleValue(delay, { schedule: 'producer' }, 'tickflow_run_start_delay_seconds_sum')).toBeCloseTo(
      3.0015,
    );
    const runs = await valuesOf(metrics, 'tickflow_runs_total');
    expect(sampleValue(runs, { schedule: 'producer', state: 'completed' })).toBe(4);
  });

  it('reads each schedule interval and last run time from BullMQ when scraped', async () => {
    const metrics = recordedMetrics();
    const intervals = await valuesOf(metrics, 'tickflow_schedule_interval_seconds');
    expect(intervals).toEqual([
      expect.objectContaining({ labels: { schedule: 'producer' }, value: 1 }),
      expect.objectContaining({ labels: { schedule: 'heartbeat' }, value: 30 }),
    ]);
    const last = await valuesOf(metrics, 'tickflow_schedule_last_run_timestamp_seconds');
    expect(last).toEqual([
      expect.objectContaining({ labels: { schedule: 'producer' }, value: FINISHED_AT / 1000 }),
      expect.objectContaining({ labels: { schedule: 'heartbeat' }, value: FINISHED_AT / 1000 }),
    ]);
  });
});

describe('intervalSeconds', () => {
  const now = new Date('2025-03-01T12:00:00Z');

  it('takes `every` (ms, a string once read back from Redis)', () => {
    expect(intervalSeconds({ every: 2_000 }, now)).toBe(2);
    expect(intervalSeconds({ every: '250' }, now)).toBe(0.25);
  });

  it('takes the gap between the next two fire times of a cron', () => {
    expect(intervalSeconds({ pattern: '*/30 * * * * *' }, now)).toBe(30);
    expect(intervalSeconds({ pattern: '0 30 2 * * *', tz: 'Europe/Paris' }, now)).toBe(86_400);
  });

  it('has none without a scheduler or with a pattern it cannot read', () => {
    expect(intervalSeconds(undefined, now)).toBeUndefined();
    expect(intervalSeconds({ pattern: 'not a cron' }, now)).toBeUndefined();
    expect(intervalSeconds({ every: 'soon' }, now)).toBeUndefined();
  });

  it('reads each queue once per scrape, shared by every gauge, and again at the next scrape', async () => {
    let reads = 0;
    let waiting = 1;
    const queue = {
      ...fakeQueue('producer', { every: '1000' }, FINISHED_AT),
      getJobCounts: async () => {
        reads++;
        return { waiting, active: 0, delayed: 0, failed: 0, completed: 0 };
      },
    } as unknown as Queue;
    const metrics = new Metrics(() => [queue]);
    await metrics.registry.metrics();
    expect(reads).toBe(1);
    waiting = 7;
    const second = await metrics.registry.metrics();
    expect(reads).toBe(2);
    expect(second).toContain('tickflow_queue_jobs{schedule="producer",state="waiting"} 7');
  });
});
