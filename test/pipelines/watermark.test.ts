import { afterEach, describe, expect, it } from 'vitest';
import { setPaused } from '../../src/control/toggle';
import { watermarkOf } from '../../src/db/watermarks';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { SchedulerTest, waitFor } from '../scheduler/support';
import { readTopic } from '../streaming/read-topic';
import { pipelineFile, pipelineTopics } from './pipeline-file';

let s: SchedulerTest;
let topics: string[] = [];
afterEach(async () => {
  await deleteTopics(createKafka(s.config), topics).catch(() => {});
  await s.cleanup();
});

const WINDOW_MS = 5_000;
const LATENESS_MS = 2_000;

interface RollupRun {
  run_id: string;
  state: string;
  trigger: string;
  window_from: Date;
  window_to: Date;
  started_at: Date | null;
}

const rollupRuns = async (test: SchedulerTest) =>
  (
    await test.db.query<RollupRun>(
      `select run_id, state, trigger, window_from, window_to, started_at from runs
        where schedule = 'rollup' order by window_to, due_at`,
    )
  ).rows;

/** Per rolled-up window: the stored rollup's total and a direct count of the stored transactions. */
async function storedAgainstTruth(test: SchedulerTest, until: Date) {
  const { rows } = await test.db.query<{ end: Date; stored: number; truth: number }>(
    `select r.window_end as "end", sum(r.transactions)::int as stored,
            (select count(*)::int from transactions t
              where t.occurred_at >= r.window_start and t.occurred_at < r.window_end) as truth
       from rollups r where r.window_end <= $1
      group by r.window_start, r.window_end order by r.window_end`,
    [until],
  );
  return rows;
}

describe('a windowed schedule waits for its consumer’s event-time watermark', () => {
  it('runs no window the consumer has not passed; after a pause every window converges to the stored truth', async () => {
    s = new SchedulerTest('wm_pause');
    const names = pipelineTopics(s);
    topics = Object.values(names);
    s.writeSchedules(
      pipelineFile(s, {
        partitions: 3,
        producerCount: 40,
        rollupEvery: WINDOW_MS / 1000,
        lateness: LATENESS_MS / 1000,
      }),
    );
    const running = await s.start();
    const consumer = { schedule: 'consumer', topic: names.tx };
    await waitFor(
      async () => (await rollupRuns(s)).some((run) => run.state === 'completed'),
      'a first completed rollup window',
      30_000,
    );

    await setPaused(running.control, 'consumer', { paused: true, by: 'test', note: 'a deploy' });
    const pausedAt = Date.now();
    // Three windows' worth of the producer's traffic go unconsumed while the rollup's clock goes on.
    const waiting = await waitFor(
      async () => {
        const runs = await rollupRuns(s);
        const held = runs.filter((run) => run.state === 'waiting' && run.window_to.getTime() > pausedAt);
        return held.length >= 3 && held;
      },
      'three rollup windows waiting for the paused consumer',
      30_000,
    );
    const watermark = await watermarkOf(s.db, consumer);
    expect(watermark).not.toBeNull();
    // No rollup run has started for a window the watermark had not passed by its lateness.
    const started = (await rollupRuns(s)).filter((run) => run.started_at !== null);
    expect(
      started.filter((run) => run.window_to.getTime() + LATENESS_MS > (watermark as Date).getTime()),
    ).toEqual([]);
    const view = (await s.schedules(running)).find((schedule) => schedule.name === 'rollup');
    expect(view?.waitsFor).toEqual({ of: 'consumer', lateness: '2s', rerunWithin: '1h' });

    await setPaused(running.control, 'consumer', { paused: false, by: 'test' });
    const lastHeld = waiting.at(-1) as RollupRun;
    // Every window that waited is rolled up once the consumer has caught up past it: each exactly
    // once by its own release, and its stored rollup equals a direct count of what was stored.
    const checked = await waitFor(
      async () => {
        const runs = await rollupRuns(s);
        const done = runs.filter(
          (run) => run.window_to <= lastHeld.window_to && ['waiting', 'queued', 'active'].includes(run.state),
        );
        if (done.length > 0) return false;
        const rows = await storedAgainstTruth(s, lastHeld.window_to);
        return rows.length > 0 && rows.every((row) => row.stored === row.truth) && rows;
      },
      'every held window rolled up to the stored truth',
      30_000,
    );
    const released = (await rollupRuns(s)).filter((run) => run.trigger === 'schedule');
    const windowEnds = released.map((run) => run.window_to.getTime());
    expect(new Set(windowEnds).size).toBe(windowEnds.length);
    for (const held of waiting) expect(windowEnds).toContain(held.window_to.getTime());
    expect(checked.map((row) => row.truth).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

    // The compacted topic's latest record per (window, market, channel) agrees with the table.
    await waitFor(
      async () => {
        const { rows } = await s.db.query<{ n: number; total: number }>(
          'select count(*)::int as n, sum(transactions)::int as total from rollups where window_end <= $1',
          [lastHeld.window_to],
        );
        const latest = await latestByKey(s, names.rollups);
        const published = [...latest.values()].filter(
          (value) => value && Date.parse(value.windowEnd) <= lastHeld.window_to.getTime(),
        );
        const total = published.reduce((sum, value) => sum + (value?.transactions ?? 0), 0);
        return published.length === rows[0]?.n && total === rows[0]?.total;
      },
      'the compacted topic to agree with the stored rollups',
      30_000,
    );
  });
});

interface RollupRecord {
  windowEnd: string;
  transactions: number;
}

/** The compacted topic as a reader sees it once compacted: the last value of each key. */
async function latestByKey(test: SchedulerTest, topic: string): Promise<Map<string, RollupRecord | null>> {
  const admin = createKafka(test.config).admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const total = ends.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const messages = await readTopic(createKafka(test.config), topic, total);
  const latest = new Map<string, RollupRecord | null>();
  for (const message of messages) {
    latest.set(
      String(message.key),
      message.value ? (JSON.parse(String(message.value)) as RollupRecord) : null,
    );
  }
  return latest;
}
