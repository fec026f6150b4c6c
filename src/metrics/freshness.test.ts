import { Registry } from '@prometheus-io/client';
import { describe, expect, it } from 'vitest';
import {
  bucketOf,
  EventTimes,
  FINE_BOUNDS_MS,
  FreshnessCounts,
  FreshnessProbe,
  type FreshRow,
  freshnessOf,
} from './freshness';
import { FRESHNESS_BUCKETS, FreshnessHistogram } from './freshness-histogram';

const T0 = Date.parse('2026-12-08T02:00:00.000Z');
const row = (eventMs: number, isFraud = false): FreshRow => ({
  transaction: { timestamp: new Date(eventMs).toISOString() },
  prediction: { isFraud },
});

/** A clock the test moves. */
function clock(start: number) {
  let now = start;
  return { now: () => now, set: (at: number) => (now = at) };
}

describe('fine buckets', () => {
  it('ascend by at most 20 % from 1 ms, with every exported bound among them', () => {
    expect(FINE_BOUNDS_MS[0]).toBe(1);
    for (let i = 1; i < FINE_BOUNDS_MS.length; i++) {
      const ratio = (FINE_BOUNDS_MS[i] as number) / (FINE_BOUNDS_MS[i - 1] as number);
      expect(ratio).toBeGreaterThan(1);
      expect(ratio).toBeLessThanOrEqual(1.2 + 1e-9);
    }
    for (const le of FRESHNESS_BUCKETS) expect(FINE_BOUNDS_MS).toContain(le * 1_000);
  });

  it('put a duration in the first bucket whose upper bound it does not exceed', () => {
    expect(bucketOf(-5)).toBe(0);
    expect(bucketOf(1)).toBe(0);
    expect(bucketOf(1.05)).toBe(1);
    expect(FINE_BOUNDS_MS[bucketOf(250)]).toBe(250);
    expect(FINE_BOUNDS_MS[bucketOf(251)]).toBe(300);
    expect(bucketOf(1e9)).toBe(FINE_BOUNDS_MS.length);
  });
});

describe('FreshnessCounts', () => {
  it('gives quantiles within a bucket of the exact ones', () => {
    const counts = new FreshnessCounts();
    for (let ms = 1; ms <= 10_000; ms++) counts.add(ms);
    expect(counts.quantile(0.5)).toBeGreaterThan(5 * 0.8);
    expect(counts.quantile(0.5)).toBeLessThan(5 * 1.2);
    expect(counts.quantile(0.99)).toBeGreaterThan(9.9 * 0.9);
    expect(counts.quantile(0.99)).toBeLessThanOrEqual(10);
    expect(new FreshnessCounts().quantile(0.5)).toBeNull();
  });

  it('round-trips through a run summary, and rejects a bucket of another layout', () => {
    const counts = new FreshnessCounts();
    counts.add(120, 3);
    counts.add(5e9);
    const summary = counts.toSummary();
    expect(summary).toEqual({ count: 4, sumSeconds: 0.36 + 5e6, buckets: { '120': 3, Inf: 1 } });
    const merged = new FreshnessCounts();
    merged.merge(summary);
    merged.merge(summary);
    expect(merged.count).toBe(8);
    expect(merged.countUpTo(0.25)).toBe(6);
    expect(() => merged.merge({ count: 1, sumSeconds: 0, buckets: { '123': 1 } })).toThrow(/"123"/);
  });
});

describe('EventTimes', () => {
  it('reads the usual form digit by digit, the same as Date.parse, across hours, and other forms too', () => {
    const times = new EventTimes();
    for (const text of [
      '2026-12-08T02:59:59.999Z',
      '2026-12-08T03:00:00.000Z',
      '2026-12-08T03:07:41.250Z',
      '2026-12-09T00:00:00.001Z',
      '2026-12-08T03:07:41Z',
      '2026-12-08T03:07:41.25Z',
      '2026-12-08T06:07:41.250+03:00',
    ])
      expect(times.parse(text), text).toBe(Date.parse(text));
  });
});

describe('FreshnessProbe', () => {
  it('moves each piece by the wait until the commit and the publish, with exact sums', () => {
    const time = clock(T0);
    const probe = new FreshnessProbe(time.now);
    // Ages at the piece: 100 ms (fraud) and 400 ms; 2 s later another at 50 ms.
    probe.queued([row(T0 - 100, true), row(T0 - 400)]);
    time.set(T0 + 2_000);
    probe.queued([row(T0 + 1_950)]);
    time.set(T0 + 3_000);
    probe.committed();
    time.set(T0 + 3_500);
    probe.published();
    const summary = probe.summary();
    // Exact: 3.1 s, 3.4 s, 1.05 s to the commit; 3.6 s to the publish.
    expect(summary?.stored.count).toBe(3);
    expect(summary?.stored.sumSeconds).toBeCloseTo(3.1 + 3.4 + 1.05, 6);
    expect(summary?.alerted).toMatchObject({ count: 1, buckets: { '4000': 1 } });
    expect(summary?.alerted.sumSeconds).toBeCloseTo(3.6, 6);
    const stored = new FreshnessCounts();
    stored.merge(summary?.stored as never);
    expect(stored.countUpTo(1)).toBe(0);
    expect(stored.countUpTo(2.5)).toBe(1);
    expect(stored.countUpTo(5)).toBe(3);
  });

  it('says nothing until the run committed, and counts an event from the future as 0', () => {
    const time = clock(T0);
    const probe = new FreshnessProbe(time.now);
    probe.queued([row(T0 + 60_000)]);
    expect(probe.summary()).toBeUndefined();
    probe.committed();
    expect(probe.summary()).toMatchObject({ stored: { count: 1, sumSeconds: 0 }, alerted: { count: 0 } });
  });

  it('is found in a run result by freshnessOf, and nothing else is', () => {
    const time = clock(T0);
    const probe = new FreshnessProbe(time.now);
    probe.queued([row(T0 - 10)]);
    probe.committed();
    const freshness = probe.summary();
    expect(freshnessOf({ consumed: 1, freshness })).toBe(freshness);
    expect(freshnessOf({ consumed: 1 })).toBeUndefined();
    expect(freshnessOf({ freshness: { stored: 1 } })).toBeUndefined();
    expect(freshnessOf(null)).toBeUndefined();
  });
});

describe('tickflow_freshness_seconds', () => {
  it('exports cumulative buckets, sum and count per stage', async () => {
    const registry = new Registry();
    const histogram = new FreshnessHistogram(registry);
    const counts = new FreshnessCounts();
    counts.add(40, 2);
    counts.add(700);
    histogram.add({ stored: counts.toSummary(), alerted: new FreshnessCounts().toSummary() });
    const text = await registry.metrics();
    expect(text).toContain('# TYPE tickflow_freshness_seconds histogram');
    expect(text).toContain('tickflow_freshness_seconds_bucket{stage="stored",le="0.025"} 0');
    expect(text).toContain('tickflow_freshness_seconds_bucket{stage="stored",le="0.05"} 2');
    expect(text).toContain('tickflow_freshness_seconds_bucket{stage="stored",le="1"} 3');
    expect(text).toContain('tickflow_freshness_seconds_bucket{stage="stored",le="+Inf"} 3');
    expect(text).toContain('tickflow_freshness_seconds_sum{stage="stored"} 0.78');
    expect(text).toContain('tickflow_freshness_seconds_count{stage="alerted"} 0');
  });
});
