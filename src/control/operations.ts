import { z } from 'zod';
import { latestVolumeByMarket, windowTotals } from '../db/rollups';
import { freshnessOfRuns } from '../db/run-freshness';
import { FRESHNESS_STAGES, type FreshnessCounts, type FreshnessStage } from '../metrics/freshness';
import { formatDuration } from '../schedules/duration';
import type { Control } from './control';

/**
 * The live operations page's figures, each from a bounded, indexed read: throughput, fraud rate and
 * volume by market from `rollups` (the stream-rollup job's windows of one size), consumer lag from
 * the consumer runs' own results (`lagAfter`, so no Kafka round trip and any worker's runs count),
 * the newest fraud alerts, and freshness from the same results (`freshness`: each run's counts by
 * bucket, merged in PostgreSQL).
 */

const when = z.iso.datetime();

const freshnessStage = z.object({
  count: z.number().describe('transactions (stored) or alerts (alerted) counted'),
  p50: z.number().nullable().describe('median in seconds, null when none'),
  p99: z.number().nullable(),
});

export const operationsView = z.object({
  generatedAt: when,
  span: z.string().describe('how far back the series go, e.g. 1h'),
  windowSize: z.string().describe('the size of the rollup windows the series and markets come from'),
  windows: z
    .array(
      z.object({
        windowEnd: when,
        transactions: z.number(),
        perSecond: z.number().describe('transactions per second of event time in the window'),
        flagged: z.number(),
        fraudRate: z.number().describe('flagged / transactions, 0 when empty'),
        amount: z.number(),
        late: z.number(),
      }),
    )
    .describe('one point per rollup window ending in the span, oldest first'),
  markets: z.object({
    windowEnd: when.nullable(),
    rows: z.array(
      z.object({ county: z.string(), transactions: z.number(), amount: z.number(), flagged: z.number() }),
    ),
  }),
  lag: z
    .array(z.object({ schedule: z.string(), at: when, lag: z.number() }))
    .describe('consumer-group lag after each consumer-batch run in the span, oldest first'),
  freshness: z
    .object(
      Object.fromEntries(FRESHNESS_STAGES.map((stage) => [stage, freshnessStage])) as Record<
        FreshnessStage,
        typeof freshnessStage
      >,
    )
    .describe(
      "seconds from event time to stored (the consumer run's commit) and to alert published, over the consumer runs completed in the span",
    ),
  alerts: z.array(
    z.object({
      transactionId: z.string(),
      accountId: z.string(),
      score: z.number(),
      createdAt: when,
      amount: z.number().nullable(),
      county: z.string().nullable(),
      channel: z.string().nullable(),
    }),
  ),
});
export type OperationsView = z.infer<typeof operationsView>;

const ALERTS = 20;
/** Lag points per schedule at most: a consumer every 2 s makes 1,800 runs an hour, more than a chart shows. */
const LAG_POINTS = 120;

export async function operationsOverview(
  control: Control,
  options: { spanMs: number; windowMs: number; now?: Date },
): Promise<OperationsView> {
  const now = options.now ?? new Date();
  const since = new Date(now.getTime() - options.spanMs);
  const windowSeconds = options.windowMs / 1_000;
  const [windows, markets, lag, alerts, freshness] = await Promise.all([
    windowTotals(control.db, windowSeconds, since),
    latestVolumeByMarket(control.db, windowSeconds),
    consumerLag(control, since, Math.max(1_000, Math.ceil(options.spanMs / LAG_POINTS))),
    recentAlerts(control),
    consumerFreshness(control, since),
  ]);
  return {
    generatedAt: now.toISOString(),
    span: formatDuration(options.spanMs),
    windowSize: formatDuration(options.windowMs),
    windows: windows.map((window) => ({
      ...window,
      windowEnd: window.windowEnd.toISOString(),
      perSecond: window.transactions / windowSeconds,
      fraudRate: window.transactions ? window.flagged / window.transactions : 0,
    })),
    markets: { windowEnd: markets.windowEnd?.toISOString() ?? null, rows: markets.markets },
    lag,
    freshness,
    alerts,
  };
}

/** The schedules that run consumer-batch, as the file says now. */
const consumerSchedules = (control: Control) =>
  (control.file().current?.schedules ?? []).filter((s) => s.job === 'consumer-batch').map((s) => s.name);

/** The largest lag any run reported in each bucket of `bucketMs` (the worst moment is what matters). */
async function consumerLag(control: Control, since: Date, bucketMs: number): Promise<OperationsView['lag']> {
  const { rows } = await control.db.query<{ schedule: string; at: Date; lag: number }>(
    `select schedule, date_bin($3 * interval '1 millisecond', due_at, $2) as at,
            max((result->>'lagAfter')::bigint) as lag
       from runs
      where schedule = any($1) and due_at > $2 and state = 'completed'
        and jsonb_typeof(result->'lagAfter') = 'number'
      group by schedule, 2
      order by 2, schedule`,
    [consumerSchedules(control), since, bucketMs],
  );
  return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
}

/** p50 and p99 of each freshness stage over the consumer runs in the span. */
async function consumerFreshness(control: Control, since: Date): Promise<OperationsView['freshness']> {
  const stages = await freshnessOfRuns(control.db, consumerSchedules(control), since);
  const quantiles = (counts: FreshnessCounts) => ({
    count: counts.count,
    p50: counts.quantile(0.5),
    p99: counts.quantile(0.99),
  });
  return { stored: quantiles(stages.stored), alerted: quantiles(stages.alerted) };
}

async function recentAlerts(control: Control): Promise<OperationsView['alerts']> {
  const { rows } = await control.db.query(
    `select a.transaction_id as "transactionId", a.account_id as "accountId", a.score,
            a.created_at as "createdAt", t.amount, t.county, t.channel
       from (select * from fraud_alerts order by created_at desc limit $1) a
       left join transactions t using (transaction_id)
      order by a.created_at desc`,
    [ALERTS],
  );
  return rows.map((row) => ({ ...row, createdAt: (row.createdAt as Date).toISOString() }));
}
