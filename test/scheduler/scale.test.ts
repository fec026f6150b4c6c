import type pg from 'pg';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ScheduleStates } from '../../src/db/schedule-states';
import { reconcile } from '../../src/scheduler/reconcile';
import { startScratchRedis } from '../scratch-redis';
import { finishedRuns, SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

/** `count` schedules of the sleep job, `every` apart, named s0, s1, … */
const manySchedules = (count: number, every: string) =>
  `schedules:\n${Array.from({ length: count }, (_, i) => `  s${i}:\n    job: sleep\n    every: ${every}\n`).join('')}`;

/** The pool's queries and transactions (connect: what a row lock takes), counted from now on. */
function counting(pool: pg.Pool): { pool: pg.Pool; queries: () => number; transactions: () => number } {
  let queries = 0;
  let transactions = 0;
  const counted = new Proxy(pool, {
    get(target, key, receiver) {
      if (key === 'query')
        return (...args: Parameters<pg.Pool['query']>) => {
          queries++;
          return (target.query as (...a: unknown[]) => unknown)(...args);
        };
      if (key === 'connect')
        return () => {
          transactions++;
          return target.connect();
        };
      return Reflect.get(target, key, receiver);
    },
  });
  return { pool: counted, queries: () => queries, transactions: () => transactions };
}

describe('thousands of schedules: cost follows the runs (real Redis and PostgreSQL)', () => {
  it('a reconcile pass over unchanged schedules takes no row lock: a few queries, however many schedules', async () => {
    s = new SchedulerTest('scale');
    s.writeSchedules(manySchedules(60, '1h'));
    const running = await s.start({ workers: false });
    const { control } = running;
    const db = counting(control.db as pg.Pool);
    const changes = await reconcile(running.source.current.schedules, {
      ...control,
      db: db.pool,
      states: new ScheduleStates(db.pool),
      log: s.t.log,
    });
    expect(changes).toEqual([]);
    expect(db.transactions()).toBe(0);
    expect(db.queries()).toBeLessThanOrEqual(3);
    // One schedule out of line (its queue paused behind PostgreSQL's back) is the one locked.
    await control.queues.get('s7').pause();
    const fixed = await reconcile(running.source.current.schedules, {
      ...control,
      db: db.pool,
      states: new ScheduleStates(db.pool),
      log: s.t.log,
    });
    expect(fixed).toEqual([{ schedule: 's7', kind: 'resumed' }]);
    expect(db.transactions()).toBe(1);
  });

  it("a worker process's Redis connections do not grow with its schedules, and every schedule runs", async () => {
    // A Redis of its own: CLIENT LIST then counts this test's connections only.
    const redis = await startScratchRedis();
    onTestFinished(() => redis.stop());
    s = new SchedulerTest('scale', { REDIS_URL: redis.url });
    s.writeSchedules(manySchedules(2, '1s'));
    const running = await s.start();
    await finishedRuns(running, 's1', 1);
    const clients = async () =>
      String(await s.redis.client('LIST'))
        .trim()
        .split('\n').length;
    const few = await clients();
    s.writeSchedules(manySchedules(80, '1s'));
    // Every one of the 80 runs (the ones added too), on the connections the 2 needed.
    await waitFor(async () => {
      const { rows } = await s.db.query<{ n: number }>(
        `select count(distinct schedule)::int as n from job_runs where state = 'completed'`,
      );
      return rows[0]?.n === 80;
    }, 'a completed run of each of the 80 schedules');
    expect(await clients()).toBe(few);
  });
});
