import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { findRun, lastRuns, pageOfRuns, runsInWindow } from '../../src/db/run-history';
import { failedStreak } from '../../src/db/run-policy';
import { type TestEnv, testEnv } from '../support';

let t: TestEnv;
let db: pg.Pool;

/** A pool whose queries return their plan instead of rows: what the history functions would run. */
function planOf(pool: pg.Pool): { db: pg.Pool; plans: string[] } {
  const plans: string[] = [];
  const explaining = {
    async query(sql: string, params: unknown[]) {
      const { rows } = await pool.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params);
      plans.push(rows.map((row) => row['QUERY PLAN']).join('\n'));
      return { rows: [] };
    },
  };
  return { db: explaining as unknown as pg.Pool, plans };
}

beforeAll(async () => {
  t = testEnv('plan');
  await migrate(t.config, t.log);
  db = createPool(t.config, 2);
  // 200,000 runs over 3 schedules (a day and a half of the default schedules): enough for the
  // planner to prefer an index over a scan whenever the index serves the query.
  await db.query(`
    insert into runs (schedule, run_id, job_type, state, trigger, attempts, due_at, started_at, finished_at)
    select (array['producer', 'consumer', 'heartbeat'])[1 + i % 3], 'repeat:' || i, 'sleep',
           case when i % 50 = 0 then 'failed' else 'completed' end, 'schedule', 1,
           now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval
      from generate_series(1, 200000) as i`);
  await db.query('analyze runs');
});

afterAll(async () => {
  await db?.end();
  await t.cleanup();
});

describe('the grid and run-list queries follow an index (plans at 200k runs)', () => {
  it.each([
    [
      'grid window',
      (d: pg.Pool) =>
        runsInWindow(d, ['producer', 'consumer'], {
          from: new Date(Date.now() - 300_000),
          to: new Date(),
          perRow: 200,
        }),
    ],
    [
      'grid window, failed only',
      (d: pg.Pool) =>
        runsInWindow(d, ['producer'], {
          from: new Date(Date.now() - 3_600_000),
          to: new Date(),
          perRow: 200,
          states: ['failed'],
        }),
    ],
    ['last run per schedule', (d: pg.Pool) => lastRuns(d, ['producer', 'consumer', 'heartbeat'])],
    ['run list page', (d: pg.Pool) => pageOfRuns(d, 'consumer', { limit: 51 })],
    [
      'run list page, by state, after a cursor',
      (d: pg.Pool) =>
        pageOfRuns(d, 'consumer', {
          limit: 51,
          states: ['failed'],
          before: { dueAt: new Date(Date.now() - 60_000), runId: 'repeat:60' },
        }),
    ],
    ['one run', (d: pg.Pool) => findRun(d, 'consumer', 'repeat:3')],
    ['failing streak', (d: pg.Pool) => failedStreak(d, 'consumer', { cap: 4 })],
  ])('%s', async (_what, query) => {
    const { db: explaining, plans } = planOf(db);
    await query(explaining);
    expect(plans.length).toBeGreaterThan(0);
    for (const plan of plans) {
      expect(plan).toMatch(/Index (Only )?Scan/);
      expect(plan).not.toMatch(/Seq Scan on (runs|job_runs)/);
    }
  });
});
