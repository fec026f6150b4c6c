import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { TcpProxy } from '../streaming/tcp-proxy';
import { testEnv } from '../support';
import { dueAfter, finishedRuns, SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
let proxy: TcpProxy;
afterEach(async () => {
  // Cleanup needs PostgreSQL back; a test that failed before setting these up has nothing to undo.
  await proxy?.open();
  await s?.cleanup();
  await proxy?.cut();
});

describe('run history through a PostgreSQL outage (real Redis and PostgreSQL behind a cuttable proxy)', () => {
  it('runs made while PostgreSQL was down reach runs/job_runs once it is back, none left active', async () => {
    const direct = loadConfig(testEnv('outage').env);
    const target = new URL(direct.databaseUrl);
    proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
    await proxy.open();
    const viaProxy = new URL(direct.databaseUrl);
    viaProxy.port = String(proxy.port);
    s = new SchedulerTest('outage', { DATABASE_URL: viaProxy.toString() });
    s.writeSchedules(
      'schedules:\n  tick:\n    job: sleep\n    every: 200ms\n    keep: 1000\n    params: { ms: 20 }\n',
    );
    const running = await s.start();
    await waitFor(async () => (await s.runs('tick')).length >= 3, 'runs before the outage');

    await proxy.cut();
    const downAt = Date.now();
    // The outage itself lasts until six runs due after the cut have finished, their history queued.
    await finishedRuns(running, 'tick', 6, dueAfter(downAt), {
      what: 'six runs during the outage',
    });
    await proxy.open();
    const upAt = Date.now();

    // Every run BullMQ finished is in PostgreSQL, as it happened, once the outbox is flushed.
    const queue = new Queue('tick', { connection: s.redis, prefix: s.config.queuePrefix });
    const finishedInRedis = async () =>
      new Set((await queue.getJobs(['completed'], 0, -1)).map((job) => String(job.id)));
    await waitFor(
      async () => {
        const inRedis = await finishedInRedis();
        const stored = new Set(
          (await s.runs('tick')).filter((r) => r.state === 'completed').map((r) => r.job_id),
        );
        // Not vacuous: BullMQ must hold the outage's runs (≥ 5) for "all recorded" to mean anything.
        return inRedis.size >= 5 && [...inRedis].every((id) => stored.has(id));
      },
      'every finished run recorded',
      20_000,
    );
    await s.stop(running);
    await queue.close();
    const rows = await s.runs('tick');
    const duringOutage = rows.filter(
      (r) => r.scheduled_at.getTime() > downAt && r.scheduled_at.getTime() < upAt,
    );
    expect(duringOutage.length).toBeGreaterThanOrEqual(5);
    expect(duringOutage.every((r) => r.state === 'completed' && r.finished_at)).toBe(true);
    expect(rows.filter((r) => r.state === 'active')).toEqual([]);
    const { rows: runRows } = await s.db.query<{ state: string; n: number }>(
      `select state, count(*)::int as n from runs where schedule = 'tick' group by state`,
    );
    expect(runRows.map((r) => r.state)).toEqual(['completed']);
    expect(await s.redis.llen(`${s.config.queuePrefix}:_tickflow:history-outbox`)).toBe(0);
  }, 60_000);
});
