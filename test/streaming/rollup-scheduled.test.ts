import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { SchedulerTest, waitFor } from '../scheduler/support';
import { seedTransactions } from './rollup-seed';

let s: SchedulerTest;
afterEach(async () => {
  await deleteTopics(createKafka(s.config), [`${s.t.id}.rollups`]).catch(() => {});
  await s.cleanup();
});

describe('stream-rollup scheduled by the real scheduler and worker', () => {
  it('rolls up the window that ends at each run’s due time, less lateness', async () => {
    s = new SchedulerTest('rollup_sched');
    s.writeSchedules(`schedules:
  rollup:
    job: stream-rollup
    every: 1s
    params: { windowSize: 1m, lateness: 2s, topic: ${s.t.id}.rollups }
`);
    await s.start();
    // Traffic stored now, over the last two minutes of event time.
    await seedTransactions(s.db, {
      tag: 'live',
      from: new Date(Date.now() - 120_000),
      count: 240,
      spacingMs: 500,
    });
    const completed = await waitFor(async () => {
      const { rows } = await s.db.query<{ due_at: Date; result: Record<string, unknown> }>(
        `select due_at, result from runs where schedule = 'rollup' and state = 'completed'
          and (result->'totals'->>'transactions')::int > 0 order by due_at desc limit 1`,
      );
      return rows[0];
    }, 'a completed rollup run with transactions');
    const end = new Date(completed.due_at.getTime() - 2_000);
    expect(completed.result).toMatchObject({
      windowSize: '1m',
      windowEnd: end.toISOString(),
      windowStart: new Date(end.getTime() - 60_000).toISOString(),
    });
    const { rows } = await s.db.query<{ n: number }>(
      'select sum(transactions)::int as n from rollups where window_seconds = 60 and window_end = $1',
      [end],
    );
    expect(rows[0]?.n).toBe((completed.result.totals as { transactions: number }).transactions);
  });
});
