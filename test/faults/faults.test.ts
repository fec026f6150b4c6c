/**
 * The fault suite (`npm run test:faults`): the real product (a `tickflow scheduler --no-workers`
 * and two `tickflow worker` processes) on Kafka, Redis and PostgreSQL of its own, started by the
 * launcher on free ports, while producer runs are triggered by hand with known seeds. One fault
 * after another, each while a consumer run is writing: a worker SIGKILLed, PostgreSQL stopped
 * (immediate mode) for 10 s, the Kafka broker's JVM SIGKILLed and restarted, Redis FLUSHALL.
 * At the end, everything the topic holds is compared with PostgreSQL and the alerts and DLQ
 * topics; a table of lost / duplicated rows and recovery times per fault is printed and written
 * to test-artifacts/faults-<client>.json. It runs on the Kafka client KAFKA_CLIENT names (the workers
 * inherit it): `KAFKA_CLIENT=platformatic npm run test:faults`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { sleep, waitFor } from '../scheduler/support';
import { FaultRun } from './fault-run';
import { ProducerLoop } from './producer-loop';
import { FaultWorld } from './world';

const kafkaClient = loadConfig(process.env).kafka.client;
const artifact = path.resolve(import.meta.dirname, `../../test-artifacts/faults-${kafkaClient}.json`);
/** Every tickflow process's output, one file each (git-ignored, like the rest of test-artifacts). */
const logsDir = path.resolve(import.meta.dirname, '../../test-artifacts/faults-logs');
/** PostgreSQL stays down this long (the one deliberate wait of the suite). */
const POSTGRES_OUTAGE_MS = 10_000;

let world: FaultWorld;
let producer: ProducerLoop | undefined;

beforeAll(async () => {
  world = await FaultWorld.start();
}, 180_000);

afterAll(async () => {
  await producer?.stop();
  world?.writeLogs(logsDir);
  if (producer)
    fs.writeFileSync(
      path.join(logsDir, 'producer-triggers.json'),
      JSON.stringify(producer.triggers, null, 1),
    );
  await world?.stop();
}, 180_000);

describe('fault suite: the product on its own Kafka, Redis and PostgreSQL', () => {
  it('loses and duplicates nothing through a worker SIGKILL, a PostgreSQL stop, a Kafka SIGKILL and a Redis FLUSHALL', async () => {
    // Supervised: a process that crashes is recorded (and fails the suite) and started again.
    await world.spawnSupervised('scheduler', ['scheduler', '--no-workers', '--no-web'], 'scheduler started');
    await world.spawnSupervised('worker-1', ['worker'], 'workers started');
    await world.spawnSupervised('worker-2', ['worker'], 'workers started');
    producer = new ProducerLoop(world);
    producer.start();
    const run = new FaultRun(world, producer);
    await run.steadyState();

    // 1. A worker SIGKILLed while its consumer run writes to PostgreSQL; a new worker takes its place.
    {
      const record = await run.begin('worker SIGKILL');
      const { child, line } = await run.duringConsumerWrite((victim) => {
        record.startedAt = Date.now();
        victim.kill('SIGKILL');
      });
      await child.exited;
      const killedRun = String(line.json?.runId);
      record.notes.killedPid = child.pid;
      record.notes.killedRun = killedRun;
      await world.spawnSupervised('worker-3', ['worker'], 'workers started');
      record.endedAt = Date.now();
      await run.measureRecovery(record);
      // The killed attempt was taken up again (stalled → retried) and the run completed.
      const attempts = await waitFor(
        async () => {
          const rows = await run.attemptsOf(killedRun);
          return rows.some((r) => r.state === 'completed') && rows;
        },
        `the killed run ${killedRun} to be retried and complete`,
        60_000,
      );
      // The kill hit that run: its first attempt failed as stalled, a later one completed it.
      expect(attempts.length).toBeGreaterThan(1);
      expect(attempts[0]).toMatchObject({ state: 'failed', error: expect.stringMatching(/stalled/) });
      record.notes.killedRunAttempts = attempts.map(
        (a) => `${a.attempt}:${a.state}${a.error ? ` (${a.error})` : ''}`,
      );
    }

    // 2. PostgreSQL stopped (immediate: a crash, no checkpoint) during a write, 10 s, then started again.
    {
      const record = await run.begin('PostgreSQL stop (immediate, 10 s)');
      let stopped: Promise<void> = Promise.resolve();
      await run.duringConsumerWrite(() => {
        record.startedAt = Date.now();
        stopped = world.stopPostgresImmediately();
      });
      await stopped;
      await sleep(POSTGRES_OUTAGE_MS);
      await world.up('postgres');
      record.endedAt = Date.now();
      await run.measureRecovery(record);
      record.notes.failedAttemptsDuringOutage = await run.failedAttempts(record.startedAt, record.endedAt);
    }

    // 3. The broker's JVM SIGKILLed during a write, then started again by the launcher.
    {
      const record = await run.begin('Kafka SIGKILL + restart');
      let killed: Promise<number> = Promise.resolve(0);
      await run.duringConsumerWrite(() => {
        record.startedAt = Date.now();
        killed = world.killKafka();
      });
      record.notes.killedPid = await killed;
      await world.up('kafka');
      record.endedAt = Date.now();
      await run.measureRecovery(record);
      record.notes.failedAttemptsDuringOutage = await run.failedAttempts(record.startedAt, record.endedAt);
    }

    // 4. Redis FLUSHALL during a write: queues, job schedulers, locks and the producer's clock are gone.
    {
      const record = await run.begin('Redis FLUSHALL');
      const redis = world.redis();
      await redis.connect();
      let flushed: Promise<unknown> = Promise.resolve();
      await run.duringConsumerWrite(() => {
        record.startedAt = Date.now();
        flushed = redis.flushall();
      });
      await flushed;
      record.endedAt = Date.now();
      redis.disconnect();
      await run.measureRecovery(record);
    }

    await run.finish(artifact);
  }, 900_000);
});
