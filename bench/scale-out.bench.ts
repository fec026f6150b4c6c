import { type Admin, AssignerProtocol } from 'kafkajs';
import { producerBatchJob } from '../jobs/producer-batch';
import { setPaused } from '../src/control/toggle';
import { deleteTopics } from '../src/kafka/topics';
import { Resources } from '../src/runtime/resources';
import { runChecked } from '../src/services/process';
import { type Child, SchedulerTest, waitFor } from '../test/scheduler/support';
import { benchContext } from './bench-context';
import { againstReference, fmt, rate } from './format';

/**
 * Part 7 of issue #9, scale-out: two `tickflow worker` processes (the built CLI) share one consumer
 * group on a 3-partition topic. A backlog is produced while the schedule is paused, then resumed:
 * each partition's consumed count (none may starve), each worker's share and the combined rate,
 * against one worker draining the same backlog the same way.
 */
const MESSAGES = backlogSize(process.env.BENCH_SCALE_OUT_MESSAGES);
const PARTITIONS = 3;
const WORKERS = 2;
const SCHEDULE = 'consumer';
const DRAIN_TIMEOUT_MS = 10 * 60_000;
/** SIGTERM lets a worker finish its run and leave the group, so the group can be deleted after. */
const GRACEFUL_STOP_MS = 30_000;

function backlogSize(value: string | undefined): number {
  const messages = Number(value ?? 200_000);
  if (!Number.isInteger(messages) || messages < 1_000 || messages > 1_000_000)
    throw new Error(
      `BENCH_SCALE_OUT_MESSAGES=${value} is not a whole number from 1000 to 1000000 (the backlog to drain); unset it for 200000`,
    );
  return messages;
}

interface ScaleOutFigures {
  workers: number;
  /** Partitions of each group member when the backlog was produced. */
  owners: number[][];
  producedByPartition: number[];
  consumedByPartition: number[];
  ms: number;
  perWorker: Array<{ worker: string; runs: number; consumed: number }>;
}

export default async function scaleOutBench(): Promise<void> {
  // The workers run dist/ (bin/tickflow): build it from this tree so they run this code.
  await runChecked(
    'npm',
    ['run', 'build'],
    'Building the CLI (npm run build) for the tickflow worker processes',
  );
  // One worker first, on the same scenario: the reference the two workers' combined rate is read against.
  const single = await scaleOut(1);
  const scaled = await scaleOut(WORKERS);
  report(scaled, single);
}

/** `workerCount` × `tickflow worker` in one group; the backlog is produced while the schedule is paused. */
async function scaleOut(workerCount: number): Promise<ScaleOutFigures> {
  const world = new SchedulerTest('bench_scale');
  const topics = { topic: world.t.topic('tx'), dlq: world.t.topic('dlq'), alerts: world.t.topic('alerts') };
  const group = `${world.t.id}-group`;
  const resources = new Resources(world.config, world.t.log);
  let workers: Child[] = [];
  try {
    world.writeSchedules(`topics:
  ${topics.topic}: { partitions: ${PARTITIONS} }
schedules:
  ${SCHEDULE}:
    job: consumer-batch
    every: 100ms
    overlap: allow
    params: { topic: ${topics.topic}, group: ${group}, dlqTopic: ${topics.dlq}, alertsTopic: ${topics.alerts}, batchSize: 10000, maxWait: 500 }
`);
    const scheduler = await world.start({ workers: false });
    workers = await world.spawnReady(workerCount, ['worker', '--no-web'], 'workers started');
    const admin = await resources.kafkajs.admin();
    const owners = await waitFor(
      async () => everyMemberOwnsPartitions(admin, group, topics.topic, workerCount),
      `${workerCount} worker(s) to join group ${group} and each own a partition`,
      60_000,
    );
    await setPaused(scheduler.control, SCHEDULE, { paused: true, by: 'bench' });
    await waitFor(
      async () => (await scheduler.control.queues.get(SCHEDULE).getActiveCount()) === 0,
      'the active runs to finish after the pause',
      60_000,
    );
    const before = await committedByPartition(admin, group, topics.topic);
    const producedByPartition = await produceBacklog(resources, world, topics.topic);

    const resumedAt = new Date();
    await setPaused(scheduler.control, SCHEDULE, { paused: false, by: 'bench' });
    const consumedByPartition = await waitFor(
      async () => {
        const now = await committedByPartition(admin, group, topics.topic);
        const delta = now.map((offset, partition) => offset - (before[partition] ?? 0));
        return total(delta) >= MESSAGES && delta;
      },
      `${workerCount} worker(s) to consume ${fmt(MESSAGES)} messages`,
      DRAIN_TIMEOUT_MS,
    );
    const ms = Date.now() - resumedAt.getTime();
    const perWorker = await consumedByWorker(world, resumedAt);
    return { workers: workerCount, owners, producedByPartition, consumedByPartition, ms, perWorker };
  } finally {
    await stopGracefully(workers);
    await resources.close();
    await world.cleanup();
    await cleanUpKafka(world, Object.values(topics), group);
  }
}

/** Partitions owned by each group member, once there are `members` and each owns some. */
async function everyMemberOwnsPartitions(
  admin: Admin,
  group: string,
  topic: string,
  members: number,
): Promise<number[][] | false> {
  const { groups } = await admin.describeGroups([group]);
  const owned = (groups[0]?.members ?? []).map((member) => {
    const decoded = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
    return [...(decoded?.assignment[topic] ?? [])].sort();
  });
  return owned.length === members && owned.every((partitions) => partitions.length > 0) && owned;
}

/** The group's committed offset of each partition (0 before the first commit). */
async function committedByPartition(admin: Admin, group: string, topic: string): Promise<number[]> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  const committed = Array.from({ length: PARTITIONS }, () => 0);
  for (const { partition, offset } of offsets?.partitions ?? [])
    committed[partition] = Math.max(0, Number(offset));
  return committed;
}

/** The backlog, through the producer job itself; returns how many messages went to each partition. */
async function produceBacklog(resources: Resources, world: SchedulerTest, topic: string): Promise<number[]> {
  const admin = await resources.kafkajs.admin();
  const highWatermarks = async () =>
    (await admin.fetchTopicOffsets(topic))
      .sort((a, b) => a.partition - b.partition)
      .map(({ high }) => Number(high));
  const before = await highWatermarks();
  const ctx = benchContext(resources, world.t.log, world.t.id);
  await producerBatchJob.run(ctx, producerBatchJob.params.parse({ topic, count: MESSAGES, seed: 7 }));
  return (await highWatermarks()).map((high, partition) => high - (before[partition] ?? 0));
}

async function consumedByWorker(
  world: SchedulerTest,
  since: Date,
): Promise<Array<{ worker: string; runs: number; consumed: number }>> {
  const { rows } = await world.db.query<{ worker: string; runs: number; consumed: number }>(
    `select worker, count(*)::int as runs, coalesce(sum((result->>'consumed')::int), 0)::int as consumed
     from job_runs where schedule = $1 and started_at >= $2 and state = 'completed'
     group by worker order by worker`,
    [SCHEDULE, since],
  );
  return rows;
}

const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);

function report(scaled: ScaleOutFigures, single: ScaleOutFigures): void {
  const combined = (figures: ScaleOutFigures) => rate(total(figures.consumedByPartition), figures.ms);
  console.log(
    `${scaled.workers} × tickflow worker, one group, ${PARTITIONS} partitions, ${fmt(MESSAGES)} messages produced while paused`,
  );
  console.log(
    `  partitions per member     ${scaled.owners.map((partitions) => `[${partitions.join(', ')}]`).join(' ')}`,
  );
  for (const [partition, count] of scaled.consumedByPartition.entries()) {
    const starved = count === 0 ? ' ✗ starved' : '';
    const produced = scaled.producedByPartition[partition] ?? 0;
    console.log(
      `  partition ${partition}               ${fmt(count)} consumed of ${fmt(produced)} produced${starved}`,
    );
  }
  for (const { worker, runs, consumed } of scaled.perWorker)
    console.log(`  worker ${worker.padEnd(18)} ${fmt(consumed)} consumed in ${runs} runs`);
  console.log(
    againstReference(
      `combined, ${scaled.workers} workers`,
      `${fmt(combined(scaled))} msg/s`,
      { label: `${single.workers} × tickflow worker`, value: `${fmt(combined(single))} msg/s` },
      combined(scaled) / combined(single),
      `no goal; ${scaled.workers}× if nothing else were shared`,
    ),
  );
  console.log(
    `  from resume to the last commit: ${fmt(scaled.ms)} ms with ${scaled.workers} workers, ${fmt(single.ms)} ms with ${single.workers}`,
  );
}

async function stopGracefully(workers: Child[]): Promise<void> {
  for (const worker of workers) worker.process.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise((resolve) => {
    timer = setTimeout(resolve, GRACEFUL_STOP_MS);
  });
  await Promise.race([Promise.all(workers.map((worker) => worker.exited)), deadline]);
  clearTimeout(timer);
}

async function cleanUpKafka(world: SchedulerTest, topics: string[], group: string): Promise<void> {
  const resources = new Resources(world.config, world.t.log);
  try {
    const admin = await resources.kafkajs.admin();
    await admin.deleteGroups([group]).catch(() => {});
    await deleteTopics(resources.kafkajs.client, topics).catch(() => {});
  } finally {
    await resources.close();
  }
}
