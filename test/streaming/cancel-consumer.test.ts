import { afterEach, describe, expect, it } from 'vitest';
import type { CancelledRun, RunDetail, TriggeredRun } from '../../src/control/views';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { SchedulerTest, waitFor } from '../scheduler/support';

let s: SchedulerTest;
afterEach(async () => {
  await deleteTopics(createKafka(s.config), ['tx', 'dlq', 'alerts'].map(s.t.topic)).catch(() => {});
  await s.cleanup();
});

describe('cancelling a consumer run mid-write (real Kafka, Redis, PostgreSQL)', () => {
  it('ends cancelled within 2 s through the API, commits nothing and moves no offset', async () => {
    s = new SchedulerTest('cancelcb');
    const [tx, dlq, alerts] = ['tx', 'dlq', 'alerts'].map(s.t.topic) as [string, string, string];
    const group = `${s.t.id}-group`;
    // Neither runs by itself during the test: each run is triggered.
    s.writeSchedules(`topics:
  ${tx}: { partitions: 3 }
schedules:
  producer:
    job: producer-batch
    cron: "0 0 1 1 *"
    params: { topic: ${tx}, count: 3000 }
  consumer:
    job: consumer-batch
    cron: "0 0 1 1 *"
    params: { topic: ${tx}, group: ${group}, dlqTopic: ${dlq}, alertsTopic: ${alerts}, batchSize: 12000, maxWait: 2000 }
`);
    const app = await s.start({ web: true });
    const call = async <T>(path: string, method = 'GET') => {
      const started = Date.now();
      const response = await fetch(`${app.web?.url}/api/v1${path}`, {
        method,
        ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: '{}' } : {}),
      });
      return { status: response.status, body: (await response.json()) as T, ms: Date.now() - started };
    };
    const runOf = async (schedule: string, runId: string) =>
      (await call<RunDetail>(`/schedules/${schedule}/runs/${runId}`)).body;

    const produced = (await call<TriggeredRun>('/schedules/producer/runs', 'POST')).body.runId;
    await waitFor(async () => (await runOf('producer', produced)).state === 'completed', 'the producer run');

    // Another transaction holds the lock the consumer's COPY into predictions needs, for as long as
    // the test likes: the consumer run is caught mid-write, its transactions rows already copied.
    const holder = await s.db.connect();
    try {
      await holder.query('begin; lock table predictions in access exclusive mode');
      const { rows } = await holder.query<{ pid: number }>('select pg_backend_pid() as pid');
      const holderPid = rows[0]?.pid as number;
      const consumed = (await call<TriggeredRun>('/schedules/consumer/runs', 'POST')).body.runId;
      await waitFor(
        async () => (await waitingForLocks(holderPid)) > 0,
        'the consumer run to wait mid-write',
        30_000,
      );

      const cancelled = await call<CancelledRun>(`/schedules/consumer/runs/${consumed}/cancel`, 'POST');
      expect(cancelled.status).toBe(200);
      expect(cancelled.ms).toBeLessThan(2_000);
      expect(cancelled.body).toMatchObject({
        was: 'active',
        state: 'cancelled',
        outcome: 'aborted',
        by: 'api:local',
      });
      expect(await runOf('consumer', consumed)).toMatchObject({
        state: 'cancelled',
        cancelledBy: 'api:local',
      });
      // The run's transaction rolled back: it waits for no lock and holds none any more.
      await waitFor(async () => (await locksHeld(holderPid)) === 0, 'the run to roll back');
    } finally {
      await holder.query('rollback');
      holder.release();
    }
    const { rows } = await s.db.query<{ transactions: number; predictions: number; profiles: number }>(
      `select (select count(*)::int from transactions) as transactions,
              (select count(*)::int from predictions) as predictions,
              (select count(*)::int from account_profiles) as profiles`,
    );
    expect(rows[0]).toEqual({ transactions: 0, predictions: 0, profiles: 0 });
    const admin = createKafka(s.config).admin();
    await admin.connect();
    try {
      const [topic] = await admin.fetchOffsets({ groupId: group, topics: [tx] });
      expect(topic?.partitions.map((p) => p.offset)).toEqual(['-1', '-1', '-1']);
    } finally {
      await admin.disconnect();
    }

    // Nothing was lost either: the next run takes all 3,000 transactions.
    const next = (await call<TriggeredRun>('/schedules/consumer/runs', 'POST')).body.runId;
    const done = await waitFor(
      async () => {
        const run = await runOf('consumer', next);
        return run.state === 'completed' && run;
      },
      'the next consumer run',
      30_000,
    );
    expect(done.result).toMatchObject({ consumed: 3_000 });
  });
});

/** Locks on the consumer's tables that client backends other than `except` wait for. */
async function waitingForLocks(except: number): Promise<number> {
  return lockCount(except, false);
}

/** Locks on the consumer's tables that client backends other than `except` hold or wait for. */
async function locksHeld(except: number): Promise<number> {
  return (await lockCount(except, true)) + (await lockCount(except, false));
}

async function lockCount(except: number, granted: boolean): Promise<number> {
  const { rows } = await s.db.query<{ n: number }>(
    // Client backends only: autovacuum may lock these tables too, at any time.
    `select count(*)::int as n from pg_locks join pg_stat_activity using (pid)
      where relation in ('transactions'::regclass, 'predictions'::regclass, 'account_profiles'::regclass)
        and backend_type = 'client backend' and pid <> $1 and granted = $2`,
    [except, granted],
  );
  return rows[0]?.n ?? 0;
}
