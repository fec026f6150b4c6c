import { afterEach, describe, expect, it } from 'vitest';
import { producerBatchJob } from '../../jobs/producer-batch';
import { setPaused } from '../../src/control/toggle';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import type { RunWindow } from '../../src/runtime/job';
import { Resources } from '../../src/runtime/resources';
import { LATE_DATA_DEBOUNCE_MS } from '../../src/scheduler/watermark-runs';
import { SchedulerTest, sleep, waitFor } from '../scheduler/support';
import { jobContext } from '../streaming/streaming-env';
import { pipelineFile, pipelineTopics } from './pipeline-file';

let s: SchedulerTest;
let resources: Resources;
let topics: string[] = [];
afterEach(async () => {
  await resources.close();
  await deleteTopics(createKafka(s.config), topics).catch(() => {});
  await s.cleanup();
});

interface RollupRun {
  run_id: string;
  state: string;
  trigger: string;
  window_from: Date;
  window_to: Date;
  result: { totals?: { transactions: number } } | null;
}

const runsOfWindow = async (window: RunWindow) =>
  (
    await s.db.query<RollupRun>(
      `select run_id, state, trigger, window_from, window_to, result from runs
        where schedule = 'rollup' and window_to = $1 order by due_at`,
      [window.to],
    )
  ).rows;

const storedCount = async (window: RunWindow) =>
  (
    await s.db.query<{ n: number }>(
      'select count(*)::int as n from transactions where occurred_at >= $1 and occurred_at < $2',
      [window.from, window.to],
    )
  ).rows[0]?.n ?? 0;

describe('late data re-runs the window it lands in', () => {
  it('makes exactly one late-data run, and the window’s rollup then counts the late transactions', async () => {
    s = new SchedulerTest('wm_late');
    const names = pipelineTopics(s);
    topics = Object.values(names);
    s.writeSchedules(pipelineFile(s, { partitions: 2, rollupEvery: 5, lateness: 1 }));
    const running = await s.start();
    resources = new Resources(s.config, s.t.log);
    const produce = (window: RunWindow, count: number) =>
      producerBatchJob.run(
        jobContext(resources, s.t, undefined, window),
        // No fraud: a fraud burst runs on for minutes, past the window, and these counts are the window's.
        producerBatchJob.params.parse({ topic: names.tx, count, fraudRate: 0 }),
      );
    // With the consumer paused its watermark stands still: a window that starts after the pause
    // is ahead of it, so what is produced for it is on time.
    await setPaused(running.control, 'consumer', { paused: true, by: 'test' });
    const pausedAt = new Date();
    const window = await waitFor(
      async () => {
        const { rows } = await s.db.query<RunWindow>(
          `select window_from as "from", window_to as "to" from runs
          where schedule = 'rollup' and state = 'waiting' and window_from > $1 order by due_at limit 1`,
          [pausedAt],
        );
        return rows[0];
      },
      'a rollup window after the pause, waiting',
      30_000,
    );
    await produce(window, 60);
    await setPaused(running.control, 'consumer', { paused: false, by: 'test' });
    const onTime = await waitFor(
      async () => {
        const runs = await runsOfWindow(window);
        return runs.find((run) => run.state === 'completed');
      },
      'the window rolled up once the watermark passed it',
      30_000,
    );
    expect(onTime.trigger).toBe('schedule');
    expect(onTime.result?.totals?.transactions).toBe(60);

    // Late: more transactions of that same window, stored after it was rolled up.
    await produce(window, 25);
    await waitFor(async () => (await storedCount(window)) === 85, 'the late transactions stored', 30_000);
    const rerun = await waitFor(
      async () => {
        const runs = await runsOfWindow(window);
        return runs.find((run) => run.trigger === 'late-data' && run.state === 'completed');
      },
      'a late-data re-run of the window',
      30_000,
    );
    expect(rerun.result?.totals?.transactions).toBe(85);
    const { rows } = await s.db.query<{ n: number }>(
      'select sum(transactions)::int as n from rollups where window_end = $1',
      [window.to],
    );
    expect(rows[0]?.n).toBe(85);
    // Proving that nothing more happens takes time: two debounce periods pass without a second re-run.
    await sleep(2 * LATE_DATA_DEBOUNCE_MS);
    const reruns = (await runsOfWindow(window)).filter((run) => run.trigger === 'late-data');
    expect(reruns).toHaveLength(1);
  });
});
