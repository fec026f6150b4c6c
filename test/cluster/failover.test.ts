/**
 * The cluster fault suite (`npm run test:cluster`): the real product (a `tickflow scheduler --no-workers`
 * and two `tickflow worker` processes) on the suite's 3-node Kafka cluster and Redis master + replica +
 * 3 Sentinels (cluster-setup.ts), PostgreSQL in a schema of its own. One fault after another, each while
 * a consumer run is writing: SIGKILL to the broker leading most of the consumed partitions (the cluster
 * rides it on the other two; the node is started again afterwards), SIGKILL to the Redis master (the
 * Sentinels promote the replica; every process follows), SIGKILL to a worker. Then the fault suite's
 * verdict (test/faults/fault-run.ts: nothing lost, nothing stored twice, recovery per fault, written to
 * test-artifacts/cluster.json), and: a paused schedule stayed paused, no due time ran twice.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisConnection } from '../../src/config/redis-connection';
import { bullConnection } from '../../src/queues/queues';
import { startKafkaNode } from '../../src/services/kafka';
import { clusterNodeStart } from '../../src/services/kafka-cluster';
import type { StartedService } from '../../src/services/local-service';
import { recordRestart } from '../../src/services/services';
import { FaultRun } from '../faults/fault-run';
import { ProducerLoop } from '../faults/producer-loop';
import { withAdmin } from '../faults/topics';
import { FaultWorld, processAlive, TOPICS } from '../faults/world';
import { waitFor } from '../scheduler/support';
import { uniqueId } from '../support';

const artifact = path.resolve(import.meta.dirname, '../../test-artifacts/cluster.json');
const logsDir = path.resolve(import.meta.dirname, '../../test-artifacts/cluster-logs');

/** A schedule a person pauses at the start: it must stay paused through every fault. */
const PAUSED_SCHEDULE = `  heartbeat:
    job: sleep
    every: 1s
    params: { ms: 1 }
`;

let world: FaultWorld;
let producer: ProducerLoop | undefined;
/** Kafka nodes this test started again after killing them (also recorded for the launcher's `down`). */
const restarted: StartedService[] = [];

beforeAll(async () => {
  world = await FaultWorld.on(inject('clusterEnv'), uniqueId('failover'), PAUSED_SCHEDULE);
}, 60_000);

afterAll(async () => {
  await producer?.stop();
  world?.writeLogs(logsDir);
  await world?.stop();
}, 180_000);

/** The broker leading most partitions of the consumed topic, by node id. */
async function busiestLeader(): Promise<number> {
  const partitions = await withAdmin(world.config, async (admin) => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [TOPICS.transactions] });
    return topics[0]?.partitions ?? [];
  });
  const led = new Map<number, number>();
  for (const { leader } of partitions) led.set(leader, (led.get(leader) ?? 0) + 1);
  return [...led].sort((a, b) => b[1] - a[1])[0]?.[0] as number;
}

/** The pid of Kafka node `id` (1…3), from the launcher's record or a restart of ours. */
function kafkaNodePid(id: number): number {
  const address = world.config.kafka.brokers[id - 1];
  const cluster = world.started('kafka-cluster');
  const nodes = [...restarted, cluster, ...(cluster.members ?? [])];
  const node = nodes.find((each) => each.address === address && processAlive(each.pid));
  if (!node) throw new Error(`no running Kafka node at ${address}`);
  return node.pid;
}

/** The master's address as the Sentinels answer it. */
async function sentinelMaster(): Promise<string> {
  const [first] = world.config.redisSentinel?.sentinels ?? [];
  const sentinel = redisConnection(
    { redisUrl: `redis://${first?.host}:${first?.port}` },
    { maxRetriesPerRequest: 1 },
  );
  try {
    const [host, port] = (await sentinel.call(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      world.config.redisSentinel?.name ?? '',
    )) as string[];
    return `${host}:${port}`;
  } finally {
    sentinel.disconnect();
  }
}

/**
 * After the failover, on the promoted master: the consumer's job scheduler still holds its next due
 * time (the run after the newest), and every consumer run BullMQ completed since the kill has its row
 * in PostgreSQL's history (written directly, or through the history outbox kept in Redis).
 */
async function expectDueTimeAndHistoryKept(since: number): Promise<void> {
  const connection = bullConnection(world.config);
  const queue = new Queue('consumer', { connection, prefix: world.config.queuePrefix });
  try {
    const [scheduler] = await queue.getJobSchedulers();
    expect(scheduler?.next).toBeGreaterThan(since);
    const completed = (await queue.getCompleted()).filter((job) => (job.finishedOn ?? 0) > since);
    expect(completed.length).toBeGreaterThan(0);
    const ids = completed.map((job) => String(job.id));
    const stored = await waitFor(
      async () => {
        const rows = await world.query<{ run_id: string }>(
          `select run_id from runs where schedule = 'consumer' and state = 'completed' and run_id = any($1)`,
          [ids],
        );
        return rows.length === ids.length && rows;
      },
      'every completed consumer run since the failover in the run history',
      30_000,
    );
    expect(stored).toHaveLength(ids.length);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function kill(pid: number, what: string): Promise<void> {
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => !processAlive(pid), `${what} (pid ${pid}) to die`, 10_000);
}

describe('cluster fault suite: 3 Kafka nodes, Redis with Sentinel', () => {
  it('loses and duplicates nothing through a partition leader SIGKILL, a Redis master SIGKILL and a worker SIGKILL', async () => {
    await world.spawnSupervised('scheduler', ['scheduler', '--no-workers', '--no-web'], 'scheduler started');
    await world.spawnSupervised('worker-1', ['worker'], 'workers started');
    await world.spawnSupervised('worker-2', ['worker'], 'workers started');
    const paused = await world.cli(['pause', 'heartbeat', '--note', 'kept through the faults']);
    expect(paused.code, paused.stderr).toBe(0);
    const pausedAt = Date.now();
    producer = new ProducerLoop(world);
    producer.start();
    const run = new FaultRun(world, producer);
    await run.steadyState();

    // 1. The broker leading most consumed partitions SIGKILLed during a write; the other two carry on.
    {
      const leader = await busiestLeader();
      const record = await run.begin(`Kafka leader SIGKILL (node ${leader} of 3)`);
      let killed: Promise<void> = Promise.resolve();
      await run.duringConsumerWrite(() => {
        record.startedAt = Date.now();
        killed = kill(kafkaNodePid(leader), `Kafka node ${leader}`);
      });
      await killed;
      // Nothing is restarted: the fault's end is the kill; the controller moves the leaders meanwhile.
      record.endedAt = record.startedAt;
      await waitFor(async () => (await busiestLeader()) !== leader, 'new partition leaders', 60_000);
      record.notes.leadersMovedMs = Date.now() - record.startedAt;
      await run.measureRecovery(record);
      record.notes.failedAttempts = await run.failedAttempts(record.startedAt, Date.now());
      // Back to three nodes for what follows (it rejoins as a follower and catches up).
      const node = await startKafkaNode(world.config, world.log, clusterNodeStart(world.config, leader));
      recordRestart(world.config, 'kafka-cluster', node);
      restarted.push(node);
    }

    // 2. The Redis master SIGKILLed during a write: the Sentinels promote the replica.
    {
      const master = world.started('redis-sentinel');
      expect(await sentinelMaster()).toBe(master.address);
      const record = await run.begin('Redis master SIGKILL (Sentinel failover)');
      let killed: Promise<void> = Promise.resolve();
      await run.duringConsumerWrite(() => {
        record.startedAt = Date.now();
        killed = kill(master.pid, 'the Redis master');
      });
      await killed;
      const promoted = await waitFor(
        async () => {
          const now = await sentinelMaster();
          return now !== master.address && now;
        },
        'the Sentinels to promote the replica',
        60_000,
      );
      record.endedAt = Date.now();
      record.notes.promoted = promoted;
      await run.measureRecovery(record);
      record.notes.failedAttempts = await run.failedAttempts(record.startedAt, Date.now());
      await expectDueTimeAndHistoryKept(record.startedAt);
    }

    // 3. A worker SIGKILLed during a write; a new worker takes its place.
    {
      const record = await run.begin('worker SIGKILL');
      const { child } = await run.duringConsumerWrite((victim) => {
        record.startedAt = Date.now();
        victim.kill('SIGKILL');
      });
      await child.exited;
      record.notes.killedPid = child.pid;
      await world.spawnSupervised('worker-3', ['worker'], 'workers started');
      record.endedAt = Date.now();
      await run.measureRecovery(record);
    }

    await run.finish(artifact);

    // The idempotent producer got over the leader change: a send the brokers refused for its sequence
    // numbers retired it, so a process saw that refusal a few times at most (once per send in flight),
    // not on every producer run for the rest of its life (21 runs over 24 s before the fix).
    const refusedSequence = world.countLines((line) => /out of order sequence number/.test(line.raw));
    for (const [process, lines] of Object.entries(refusedSequence))
      expect(lines, process).toBeLessThanOrEqual(5);

    // The person's pause held through every fault: still paused, and no run of it began after it.
    const list = await world.cli(['list']);
    expect(list.stdout).toMatch(/heartbeat.*paused/);
    const [{ n: heartbeats } = { n: -1 }] = await world.query<{ n: number }>(
      `select count(*)::int as n from runs where schedule = 'heartbeat' and started_at > $1`,
      [new Date(pausedAt + 1_000)],
    );
    expect(heartbeats).toBe(0);
    // No due time ran twice: one run per schedule and due time, and no run completed twice.
    const twice = await world.query(
      `select schedule, due_at, count(*)::int as n from runs where trigger = 'schedule'
        group by 1, 2 having count(*) > 1`,
    );
    expect(twice).toEqual([]);
    const completedTwice = await world.query(
      `select schedule, job_id, count(*)::int as n from job_runs where state = 'completed'
        group by 1, 2 having count(*) > 1`,
    );
    expect(completedTwice).toEqual([]);
    const report = JSON.parse(fs.readFileSync(artifact, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(
      artifact,
      `${JSON.stringify({ ...report, pausedKept: true, dueTimesRunTwice: twice.length, runsCompletedTwice: completedTwice.length, refusedSequence }, null, 2)}\n`,
    );
  }, 600_000);
});
