import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamRollupJob } from '../../jobs/stream-rollup';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import type { OperationsView } from '../../src/control/operations';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import type { RunWindow } from '../../src/runtime/job';
import { Resources } from '../../src/runtime/resources';
import { SchedulerTest, waitFor } from '../scheduler/support';
import { seedTransactions } from '../streaming/rollup-seed';
import { jobContext } from '../streaming/streaming-env';
import { launchChromium, openPage, screenshot } from './browser';

const MINUTE = 60_000;

/** A consumer schedule that never runs: its runs (and their lag) are seeded below. */
const SCHEDULES = `schedules:
  consumer:
    job: consumer-batch
    every: 2s
    enabled: false
`;

/**
 * Each seeded run's freshness, as FreshnessProbe.summary gives it (fine buckets keyed by upper bound
 * in ms). Stored: 90 in (170, 200] ms, 9 in (900, 1000], 1 in (4500, 5000]: p50 at rank 50 of 100 is
 * 170 + 30 × 50/90 ≈ 186.7 ms, p99 at rank 99 the top of (900, 1000]. Alerted: 5 in (2500, 3000].
 */
const RUN_FRESHNESS = {
  stored: { count: 100, sumSeconds: 32, buckets: { '200': 90, '1000': 9, '5000': 1 } },
  alerted: { count: 5, sumSeconds: 14, buckets: { '3000': 5 } },
};

let browser: Browser;
let s: SchedulerTest;
let app: SchedulerApp;
let resources: Resources;
let topic: string;
/** The transactions of the seeded alerts. */
let alerted: string[];
/** The last whole minute when the test started: the newest window seeded ends here. */
const lastMinute = new Date(Math.floor(Date.now() / MINUTE) * MINUTE);

/** The 5-minute window ending `minutesAgo` before lastMinute, rolled up by the real job. */
const rollUp = (minutesAgo: number) => {
  const end = new Date(lastMinute.getTime() - minutesAgo * MINUTE);
  const window: RunWindow = { from: new Date(end.getTime() - MINUTE), to: end };
  return streamRollupJob.run(
    jobContext(resources, s.t, undefined, window),
    streamRollupJob.params.parse({ windowSize: '5m', topic }),
  );
};

async function seedAlerts(count: number, county?: string): Promise<string[]> {
  const { rows } = await s.db.query<{ id: string }>(
    `insert into fraud_alerts (transaction_id, account_id, score, created_at)
     select t.transaction_id, t.account_id, 0.93, now()
       from transactions t join predictions p using (transaction_id)
      where p.is_fraud and ($2::text is null or t.county = $2)
        and not exists (select 1 from fraud_alerts a where a.transaction_id = t.transaction_id)
      limit $1
     returning transaction_id as id`,
    [count, county ?? null],
  );
  return rows.map((row) => row.id);
}

beforeAll(async () => {
  browser = await launchChromium();
  s = new SchedulerTest('ops');
  s.writeSchedules(SCHEDULES);
  app = await s.start({ web: true, workers: false });
  resources = new Resources(s.config, s.t.log);
  topic = `${s.t.id}.rollups`;
  // 20 minutes of traffic, one transaction a second, rolled up into ten sliding 5-minute windows.
  await seedTransactions(s.db, {
    tag: 'ops',
    from: new Date(lastMinute.getTime() - 20 * MINUTE),
    count: 1_200,
    spacingMs: 1_000,
  });
  for (let minutesAgo = 9; minutesAgo >= 0; minutesAgo--) await rollUp(minutesAgo);
  alerted = await seedAlerts(5);
  // Lag and freshness after five consumer runs, one a minute.
  await s.db.query(
    `insert into runs (schedule, run_id, job_type, state, trigger, attempts, due_at, finished_at, result)
     select 'consumer', 'seed-' || i, 'consumer-batch', 'completed', 'schedule', 1,
            now() - i * interval '1 minute', now() - i * interval '1 minute',
            jsonb_build_object('lagAfter', 100 * i, 'freshness', $1::jsonb)
       from generate_series(1, 5) as i`,
    [JSON.stringify(RUN_FRESHNESS)],
  );
});

afterAll(async () => {
  await browser?.close();
  await resources?.close();
  if (!s) return;
  await deleteTopics(createKafka(s.config), [topic]).catch(() => {});
  await s.cleanup();
});

/** Each 5-minute window's amount straight from the transactions (not from the rollups the API reads). */
async function amountsFromTransactions(ends: Date[]): Promise<number[]> {
  const { rows } = await s.db.query<{ amount: number }>(
    `select coalesce(sum(t.amount), 0)::float8 as amount
       from unnest($1::timestamptz[]) with ordinality as e(window_end, n)
       left join transactions t
         on t.occurred_at >= e.window_end - interval '5 minutes' and t.occurred_at < e.window_end
      group by e.n order by e.n`,
    [ends],
  );
  return rows.map((row) => row.amount);
}

/** The 5-minute window ending `end`, per market, largest first, straight from the transactions. */
async function marketsFromTransactions(end: Date) {
  const { rows } = await s.db.query(
    `select coalesce(t.county, 'unknown') as county, count(*)::int as transactions,
            count(*) filter (where p.is_fraud)::int as flagged
       from transactions t left join predictions p using (transaction_id)
      where t.occurred_at >= $1::timestamptz - interval '5 minutes' and t.occurred_at < $1
      group by 1 order by 2 desc, 1`,
    [end],
  );
  return rows;
}

const operations = async (query = '') => {
  const response = await fetch(`${app.web?.url}/api/v1/operations${query}`);
  // The OpenAPI-documented shape, or an error with its issues.
  return { status: response.status, body: (await response.json()) as OperationsView & ErrorBody };
};
type ErrorBody = { issues?: { field: string }[] };

describe('the operations page and its API (real PostgreSQL, Kafka for the rollups, Chromium)', () => {
  it('answers the seeded traffic, lag and alerts; names a bad field', async () => {
    const { status, body } = await operations('?span=15m&windowSize=5m');
    expect(status).toBe(200);
    // Ten 5-minute windows of one transaction a second, every 20th flagged by the seed: 300 and 15 each.
    const ends = Array.from({ length: 10 }, (_, k) => new Date(lastMinute.getTime() - (9 - k) * MINUTE));
    expect(body.windows.map((w) => [w.windowEnd, w.transactions, w.flagged, w.late, w.perSecond])).toEqual(
      ends.map((end) => [end.toISOString(), 300, 15, 0, 1]),
    );
    expect(body.windows.map((w) => w.fraudRate)).toEqual(ends.map(() => 0.05));
    const amounts = await amountsFromTransactions(ends);
    for (const [k, w] of body.windows.entries()) expect(w.amount).toBeCloseTo(amounts[k] ?? -1, 2);
    expect(body.markets.windowEnd).toBe(lastMinute.toISOString());
    expect(
      body.markets.rows.map(({ county, transactions, flagged }) => ({ county, transactions, flagged })),
    ).toEqual(await marketsFromTransactions(lastMinute));
    expect(body.lag.map((point) => point.lag)).toEqual([500, 400, 300, 200, 100]);
    // Five runs of RUN_FRESHNESS: the same quantiles, five times the counts.
    expect(body.freshness.stored.count).toBe(500);
    expect(body.freshness.stored.p50).toBeCloseTo(0.17 + (0.03 * 50) / 90, 6);
    expect(body.freshness.stored.p99).toBeCloseTo(1, 6);
    expect(body.freshness.alerted).toEqual({ count: 25, p50: 2.75, p99: expect.closeTo(2.995, 6) });
    expect(body.alerts.map((alert) => alert.transactionId).sort()).toEqual([...alerted].sort());
    expect(body.alerts[0]).toMatchObject({ score: 0.93, channel: expect.any(String) });

    const bad = await operations('?span=forever');
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([expect.objectContaining({ field: 'span' })]);
    const subSecond = await operations('?windowSize=1500ms');
    expect(subSecond.status).toBe(400);
    expect(subSecond.body.issues).toEqual([expect.objectContaining({ field: 'windowSize' })]);
  });

  it('draws live charts offline and redraws when new rollups and alerts arrive', async () => {
    const { page, consoleErrors, external } = await openPage(browser, `${app.web?.url}/ops`);
    // A steady rate draws a flat line, which has no height: attached, not "visible", is the test.
    const line = (chart: string, points: number) =>
      page.locator(`#${chart}[data-points="${points}"] polyline.chart-line`).waitFor({ state: 'attached' });
    await line('chart-throughput', 10);
    await line('chart-fraud', 10);
    await line('chart-lag', 5);
    await page.locator('#throughput-now', { hasText: '1 tx/s' }).waitFor();
    await page.locator('#markets .market[data-county="Nairobi"]').waitFor();
    expect(await page.locator('#alerts tr[data-transaction]').count()).toBe(5);
    const stage = (name: string) => page.locator(`#freshness tr[data-stage="${name}"]`);
    await stage('stored').locator('td.p50', { hasText: '187 ms' }).waitFor();
    expect(await stage('stored').locator('td.p99').textContent()).toBe('1 s');
    expect(await stage('alerted').locator('td.p50').textContent()).toBe('2.8 s');
    expect(await stage('alerted').locator('td.p99').textContent()).toBe('3 s');
    await screenshot(page, 'ops-1-live');

    // A new market's traffic in the newest window, rolled up again, and its alert: the page follows.
    await seedTransactions(s.db, {
      tag: 'turkana',
      from: new Date(lastMinute.getTime() - 4 * MINUTE),
      count: 200,
      spacingMs: 1_000,
    });
    await s.db.query(
      `update transactions set county = 'Turkana' where transaction_id in (select md5('turkana:' || i)::uuid from generate_series(0, 199) i)`,
    );
    await rollUp(0);
    const [alert] = await seedAlerts(1, 'Turkana');
    await page.locator('#markets .market[data-county="Turkana"]').waitFor({ timeout: 15_000 });
    await page.locator(`#alerts tr[data-transaction="${alert}"]`).waitFor({ timeout: 15_000 });
    await waitFor(
      async () => (await page.locator('#throughput-now').textContent())?.includes('1.7 tx/s'),
      'the new throughput',
    );
    await screenshot(page, 'ops-2-updated');

    // The grid links here.
    const grid = await openPage(browser, `${app.web?.url}/schedules`);
    await grid.page.locator('nav a[href="/ops"]').click();
    await grid.page.locator('#chart-throughput polyline.chart-line').waitFor({ state: 'attached' });

    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
    expect(grid.consoleErrors).toEqual([]);
  }, 90_000);
});
