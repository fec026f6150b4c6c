import type pg from 'pg';

/** Transactions without a county (stored before messages carried one) are grouped under this market. */
const UNKNOWN_MARKET = 'unknown';

/** One window of event time: [start, end), of `end − start` milliseconds. */
export interface RollupWindow {
  start: Date;
  end: Date;
}

/** One row of `rollups`: a window's totals for one market (county) and channel. */
export interface RollupRow {
  windowSeconds: number;
  windowStart: Date;
  windowEnd: Date;
  county: string;
  channel: string;
  transactions: number;
  amount: number;
  flagged: number;
  /** Transactions of this window stored (ingested) at or after the window's end. */
  late: number;
}

/** A (market, channel) row a re-run no longer has: its key in the compacted topic gets a tombstone. */
export interface RollupKey {
  county: string;
  channel: string;
}

export interface RollupWrite {
  rows: RollupRow[];
  removed: RollupKey[];
}

const ROW = `window_seconds as "windowSeconds", window_start as "windowStart", window_end as "windowEnd",
  county, channel, transactions, amount, flagged, late`;

const windowSeconds = (window: RollupWindow) =>
  Math.round((window.end.getTime() - window.start.getTime()) / 1_000);

/**
 * Rolls one window up in ONE transaction that replaces the window's rows (delete, then insert from
 * the aggregate), so running it again leaves the same rows, with any late arrivals counted. Two runs
 * of the same window serialise on an advisory lock instead of colliding on the primary key.
 */
export async function replaceRollup(db: pg.Pool, window: RollupWindow): Promise<RollupWrite> {
  const size = windowSeconds(window);
  const client = await db.connect();
  try {
    await client.query('begin');
    await client.query(`select pg_advisory_xact_lock(hashtext('rollups'), hashtext($1))`, [
      `${size}|${window.end.toISOString()}`,
    ]);
    const deleted = await client.query<RollupKey>(
      'delete from rollups where window_seconds = $1 and window_end = $2 returning county, channel',
      [size, window.end],
    );
    const inserted = await client.query<RollupRow>(
      `insert into rollups (window_seconds, window_start, window_end, county, channel,
                            transactions, amount, flagged, late)
       select $1, $2::timestamptz, $3::timestamptz, coalesce(t.county, $4), t.channel,
              count(*), sum(t.amount), count(*) filter (where p.is_fraud),
              count(*) filter (where t.ingested_at >= $3::timestamptz)
         from transactions t
         left join predictions p using (transaction_id)
        where t.occurred_at >= $2::timestamptz and t.occurred_at < $3::timestamptz
        group by coalesce(t.county, $4), t.channel
       returning ${ROW}`,
      [size, window.start, window.end, UNKNOWN_MARKET],
    );
    await client.query('commit');
    const kept = new Set(inserted.rows.map(keyOf));
    const removed = deleted.rows.filter((row) => !kept.has(keyOf(row)));
    return { rows: inserted.rows.sort(byMarket), removed };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

const keyOf = (row: RollupKey) => `${row.county}\u0000${row.channel}`;
const byMarket = (a: RollupKey, b: RollupKey) =>
  a.county.localeCompare(b.county) || a.channel.localeCompare(b.channel);

export interface WindowTotals {
  windowEnd: Date;
  transactions: number;
  amount: number;
  flagged: number;
  late: number;
}

/** Totals over every market and channel of each window of one size ending after `since`, oldest first. */
export async function windowTotals(db: pg.Pool, sizeSeconds: number, since: Date): Promise<WindowTotals[]> {
  const { rows } = await db.query<WindowTotals>(
    `select window_end as "windowEnd", sum(transactions)::bigint as transactions, sum(amount) as amount,
            sum(flagged)::bigint as flagged, sum(late)::bigint as late
       from rollups
      where window_seconds = $1 and window_end > $2
      group by window_end
      order by window_end`,
    [sizeSeconds, since],
  );
  return rows;
}

export interface MarketVolume {
  county: string;
  transactions: number;
  amount: number;
  flagged: number;
}

/** The newest window of one size, per market (channels added up), largest volume first. */
export async function latestVolumeByMarket(
  db: pg.Pool,
  sizeSeconds: number,
): Promise<{ windowEnd: Date | null; markets: MarketVolume[] }> {
  const { rows } = await db.query<MarketVolume & { windowEnd: Date }>(
    `select window_end as "windowEnd", county, sum(transactions)::bigint as transactions,
            sum(amount) as amount, sum(flagged)::bigint as flagged
       from rollups
      where window_seconds = $1
        and window_end = (select max(window_end) from rollups where window_seconds = $1)
      group by window_end, county
      order by transactions desc, county`,
    [sizeSeconds],
  );
  return {
    windowEnd: rows[0]?.windowEnd ?? null,
    markets: rows.map(({ county, transactions, amount, flagged }) => ({
      county,
      transactions,
      amount,
      flagged,
    })),
  };
}
