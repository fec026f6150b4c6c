import net from 'node:net';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate';
import { createPool } from '../../src/db/pool';
import { bullConnection } from '../../src/queues/queues';
import { type HistoryWrite, JobRunsLog, type RunAttempt, type RunOutcome } from '../../src/worker/job-runs';
import { RunHistory } from '../../src/worker/run-history';
import { type TestEnv, testEnv } from '../support';
import { deletePrefix } from './redis-keys';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** A port nothing listens on: PostgreSQL there is unreachable at once (ECONNREFUSED). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Two worker processes' run histories on one Redis outbox: the first cannot reach PostgreSQL. */
async function twoProcesses(t: TestEnv) {
  await migrate(t.config, t.log);
  const db = createPool(t.config, 2);
  const away = new URL(t.config.databaseUrl);
  away.port = String(await closedPort());
  const unreachable = createPool({ ...t.config, databaseUrl: away.toString() }, 1);
  const redis = bullConnection(t.config);
  closers.push(
    () => t.cleanup(),
    () => db.end(),
    () => unreachable.end(),
    async () => {
      await deletePrefix(redis, t.config.queuePrefix);
      redis.disconnect();
    },
  );
  const history = (pool: typeof db) =>
    new RunHistory(new JobRunsLog(pool), redis, t.config.queuePrefix, t.log);
  return { db, cutOff: history(unreachable), connected: history(db) };
}

/** The runs row of a run of schedule `tick`. */
async function runStateIn(db: pg.Pool, runId: string) {
  const { rows } = await db.query<{ state: string; attempts: number }>(
    'select state, attempts from runs where schedule = $1 and run_id = $2',
    ['tick', runId],
  );
  return rows[0];
}

const COMPLETED: RunOutcome = { state: 'completed', result: { ok: true }, logs: [] };

/** An attempt's two writes, its start and its end. */
async function startAndFinish(history: RunHistory, run: RunAttempt, outcome: RunOutcome): Promise<void> {
  await history.write({ op: 'started', run });
  await history.write({ op: 'finished', run, outcome, at: new Date() });
}

const attempt = (jobId: string, n: number): RunAttempt => ({
  schedule: 'tick',
  jobId,
  attempt: n,
  jobType: 'sleep',
  params: {},
  startedAt: new Date(),
  worker: `process-${n}`,
});

describe('run history order across worker processes (real Redis and PostgreSQL)', () => {
  it("a retry on another process queues behind the first attempt's queued writes; other runs need not wait", async () => {
    const t = testEnv('order');
    const { db, cutOff, connected } = await twoProcesses(t);
    const runState = (runId: string) => runStateIn(db, runId);

    // Attempt 1 fails on a process that cannot reach PostgreSQL: both its writes wait in the outbox.
    await startAndFinish(cutOff, attempt('manual-r', 1), {
      state: 'failed',
      error: 'boom',
      final: false,
      logs: [],
    });

    // Another run's first attempt has no earlier write anywhere: it lands at once.
    await connected.write({ op: 'started', run: attempt('manual-other', 1) });
    expect(await runState('manual-other')).toEqual({ state: 'active', attempts: 1 });

    // The retry runs on the process that reaches PostgreSQL: it must not land before attempt 1,
    // whose replayed start would otherwise mark the finished run active again.
    await startAndFinish(connected, attempt('manual-r', 2), COMPLETED);
    expect(await runState('manual-r')).toBeUndefined();

    await connected.flush();
    expect(await runState('manual-r')).toEqual({ state: 'completed', attempts: 2 });
    const { rows } = await db.query<{ attempt: number; state: string }>(
      `select attempt, state from job_runs where schedule = 'tick' and job_id = 'manual-r' order by attempt`,
    );
    expect(rows).toEqual([
      { attempt: 1, state: 'failed' },
      { attempt: 2, state: 'completed' },
    ]);
  });

  it("an attempt's end queues behind its own queued start when PostgreSQL is back in between", async () => {
    const t = testEnv('order');
    const { db } = await twoProcesses(t);
    const redis = bullConnection(t.config);
    closers.push(async () => redis.disconnect());
    // PostgreSQL refuses the start, then is back for the end.
    const log = new JobRunsLog(db);
    let refused = false;
    const store = {
      apply: async (write: HistoryWrite) => {
        if (refused) return log.apply(write);
        refused = true;
        throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      },
    } as JobRunsLog;
    const history = new RunHistory(store, redis, t.config.queuePrefix, t.log);
    await startAndFinish(history, attempt('manual-back', 1), COMPLETED);
    await history.flush();
    // Had the end landed at once, the start replayed after it would leave the run active.
    expect(await runStateIn(db, 'manual-back')).toEqual({ state: 'completed', attempts: 1 });
  });
});
