import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { streamRollupJob } from '../../jobs/stream-rollup';
import type { RollupWindow } from '../../src/db/rollups';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import type { RunWindow } from '../../src/runtime/job';
import { readTopic } from './read-topic';
import { seedTransactions } from './rollup-seed';
import { jobContext, type StreamingEnv, streamingEnv } from './streaming-env';

const MINUTE = 60_000;
const at = (base: Date, ms: number) => new Date(base.getTime() + ms);

let env: StreamingEnv;
let topic: string;

beforeAll(async () => {
  env = await streamingEnv('rollup');
  topic = env.topic('rollups');
});
afterAll(async () => {
  await deleteTopics(createKafka(env.config), [topic]).catch(() => {});
  await env.cleanup();
});

/** One run of the job as a scheduled run covering `window` would make it. */
const rollUp = (window: RunWindow, params: Partial<z.input<typeof streamRollupJob.params>> = {}) =>
  streamRollupJob.run(
    jobContext(env.resources, env, undefined, window),
    streamRollupJob.params.parse({ topic, ...params }),
  );

/** The same figures straight from the transactions, written independently of the job's query. */
async function directAggregate(window: RollupWindow) {
  const { rows } = await env.resources.db.query(
    `select coalesce(t.county, 'unknown') as county, t.channel, count(*)::int as transactions,
            round(sum(t.amount), 2)::float8 as amount,
            count(*) filter (where p.is_fraud)::int as flagged,
            count(*) filter (where t.ingested_at >= $2)::int as late
       from transactions t left join predictions p on p.transaction_id = t.transaction_id
      where t.occurred_at >= $1 and t.occurred_at < $2
      group by 1, 2 order by 1, 2`,
    [window.start, window.end],
  );
  return rows;
}

/** The job's stored rows of one window, read back from the table in the shape of directAggregate. */
async function stored(window: RollupWindow) {
  const { rows } = await env.resources.db.query(
    `select county, channel, transactions, amount, flagged, late from rollups
      where window_seconds = $1 and window_end = $2 order by county, channel`,
    [(window.end.getTime() - window.start.getTime()) / 1_000, window.end],
  );
  return rows;
}

describe('stream-rollup against real PostgreSQL and Kafka', () => {
  it('rolls a window up exactly as a direct SQL aggregate; a re-run leaves the same rows and keys', async () => {
    const base = new Date('2024-03-01T10:00:00Z');
    // 12 minutes of traffic around the window [10:00, 10:05), stored 200 ms after it happened.
    await seedTransactions(env.resources.db, {
      tag: 'exact',
      from: at(base, -4 * MINUTE),
      count: 1_440,
      spacingMs: 500,
      ingestDelayMs: 200,
    });
    // Every 7th not scored yet (no prediction row): still a transaction of its window, and not flagged.
    await env.resources.db.query(
      `delete from predictions where transaction_id in (select md5('exact:' || i)::uuid from generate_series(0, 1439, 7) i)`,
    );
    const window = { start: base, end: at(base, 5 * MINUTE) };

    const first = await rollUp({ from: window.start, to: window.end });
    const expected = await directAggregate(window);
    expect(expected.length).toBeGreaterThan(32); // 8 markets × 4 channels, 'unknown' included
    expect(expected.some((row) => row.county === 'unknown')).toBe(true);
    expect(await stored(window)).toEqual(expected);
    const sum = (field: string) => expected.reduce((n, row) => n + row[field], 0);
    expect(first).toMatchObject({
      windowSize: '5m',
      windowStart: '2024-03-01T10:00:00.000Z',
      windowEnd: '2024-03-01T10:05:00.000Z',
      rows: expected.length,
      totals: { transactions: 600, flagged: sum('flagged'), late: 0 },
    });
    expect(sum('transactions')).toBe(600);
    // Flagged: every 20th of the window's 600 (i = 480…1079), less the 4 of them not scored (i % 140 = 0).
    expect(sum('flagged')).toBe(30 - 4);

    const again = await rollUp({ from: window.start, to: window.end });
    expect(await stored(window)).toEqual(expected);
    expect(again).toMatchObject({ rows: first.rows, totals: first.totals });

    // Each run published one message per row under the same keys: compaction keeps one per key.
    const messages = await readTopic(env.resources.kafkajs.client, topic, expected.length * 2);
    const byKey = new Map<string, unknown[]>();
    for (const message of messages) {
      const key = String(message.key);
      byKey.set(key, [...(byKey.get(key) ?? []), JSON.parse(String(message.value))]);
    }
    const nairobiCard = `5m|2024-03-01T10:05:00.000Z|Nairobi|card`;
    expect(byKey.size).toBe(expected.length);
    expect([...byKey.values()].every((values) => values.length === 2)).toBe(true);
    expect(byKey.get(nairobiCard)?.[1]).toMatchObject(
      expected.find((row) => row.county === 'Nairobi' && row.channel === 'card'),
    );
  });

  it('drops a market a re-run no longer finds from the table, and sends its key a tombstone', async () => {
    const base = new Date('2024-05-01T00:00:00Z');
    await seedTransactions(env.resources.db, { tag: 'gone', from: base, count: 600, spacingMs: 500 });
    const window = { start: base, end: at(base, 5 * MINUTE) };
    await rollUp({ from: window.start, to: window.end });
    await env.resources.db.query(
      `delete from transactions where county = 'Meru' and channel = 'online' and occurred_at >= $1 and occurred_at < $2`,
      [window.start, window.end],
    );
    const rerun = await rollUp({ from: window.start, to: window.end });
    expect(rerun).toMatchObject({ tombstones: 1 });
    expect(await stored(window)).toEqual(await directAggregate(window));
  });

  it('slides 5-minute windows each minute and counts late arrivals, which a re-run picks up', async () => {
    const base = new Date('2024-04-01T08:00:00Z');
    await seedTransactions(env.resources.db, {
      tag: 'on-time',
      from: base,
      count: 720,
      spacingMs: 1_000,
      ingestDelayMs: 100,
    });
    // A scheduled run every minute, 30 s after each minute, with lateness 30s and windowSize 5m.
    const runAt = (minute: number) => {
      const due = at(base, minute * MINUTE + 30_000);
      return rollUp({ from: at(due, -MINUTE), to: due }, { windowSize: '5m', lateness: '30s' });
    };
    const sixth = await runAt(6);
    const seventh = await runAt(7);
    expect(sixth).toMatchObject({
      windowStart: '2024-04-01T08:01:00.000Z',
      windowEnd: '2024-04-01T08:06:00.000Z',
    });
    expect(seventh).toMatchObject({
      windowStart: '2024-04-01T08:02:00.000Z',
      windowEnd: '2024-04-01T08:07:00.000Z',
    });
    for (const minute of [6, 7]) {
      const window = { start: at(base, (minute - 5) * MINUTE), end: at(base, minute * MINUTE) };
      expect(await stored(window)).toEqual(await directAggregate(window));
    }
    expect(sixth).toMatchObject({ totals: { transactions: 300 } });

    // 40 transactions of 08:05–08:06 arrive 2 minutes after that window closed: late. Re-running the
    // window (by its end, as `tickflow trigger --param windowEnd=…` would) counts them once, as late.
    await seedTransactions(env.resources.db, {
      tag: 'late',
      from: at(base, 5 * MINUTE + 250),
      count: 40,
      spacingMs: 1_000,
      ingestDelayMs: 3 * MINUTE,
    });
    const window = { start: at(base, MINUTE), end: at(base, 6 * MINUTE) };
    const rerun = await rollUp(
      { from: base, to: base },
      { windowSize: '5m', windowEnd: '2024-04-01T08:06:00.000Z' },
    );
    expect(rerun).toMatchObject({
      windowEnd: '2024-04-01T08:06:00.000Z',
      totals: { transactions: 340, late: 40 },
    });
    expect(await stored(window)).toEqual(await directAggregate(window));
    const rerunAgain = await rollUp(
      { from: base, to: base },
      { windowSize: '5m', windowEnd: '2024-04-01T08:06:00.000Z' },
    );
    expect(rerunAgain).toMatchObject({ totals: { transactions: 340, late: 40 } });
    // The next window was not touched by the re-run.
    expect((await stored({ start: at(base, 2 * MINUTE), end: at(base, 7 * MINUTE) })).length).toBeGreaterThan(
      0,
    );
  });

  it('refuses a run whose window is empty and that names no windowSize', async () => {
    const now = new Date();
    await expect(rollUp({ from: now, to: now })).rejects.toThrow(/set the param windowSize/);
  });
});
