import os from 'node:os';
import { producerBatchJob } from '../jobs/producer-batch';
import { parseValue } from '../src/consumer/fast-transaction';
import { migrate } from '../src/db/migrate';
import { evaluateSimulation } from '../src/domain/evaluate-simulation';
import { builtinPredictor } from '../src/domain/model';
import { accountsForRate } from '../src/domain/population';
import { featurize, score } from '../src/domain/scoring';
import { simulate } from '../src/domain/simulator';
import { streamingTopicDefaults } from '../src/kafka/streaming-topics';
import { deleteTopics } from '../src/kafka/topics';
import { Resources } from '../src/runtime/resources';
import { type TestEnv, testEnv } from '../test/support';
import { benchContext } from './bench-context';
import { againstReference, fmt, megabytes, rate } from './format';
import {
  type ChildReport,
  type ConsumerFigures,
  EMPTY_RUN_WAIT_MS,
  type ProducerFigures,
  runJobInChild,
} from './job-child';
import { consumerPerformance, producerPerformance, REFERENCE_PRODUCER_PROPS } from './kafka-perf';
import { CONSUMER_TABLES, type CopyAlone, copySameRowsAlone } from './postgres-copy';
import type { ServiceCpu } from './service-cpu';

/**
 * Streaming figures against the real services, each next to the limit measured in the same run:
 * producer-batch vs Kafka's ProducerPerformance, consumer-batch end to end vs PostgreSQL COPY of
 * the same rows alone (and Kafka's ConsumerPerformance), each job's peak RSS in a process of its own.
 */
const MESSAGES = messageCount(process.env.BENCH_STREAMING_MESSAGES);
/** The producer's default population (its default ratePerSecond, 200): every account a run can meet. */
const POPULATION = accountsForRate(200);
const GOAL = {
  producerRatio: 0.5,
  consumerRatio: 0.8,
  peakRssBytes: 300 * 1024 * 1024,
  emptyRunOverheadMs: 50,
};

interface BenchRun extends TestEnv {
  resources: Resources;
  topics: {
    topic: string;
    steady: string;
    dlqTopic: string;
    alertsTopic: string;
    reference: string;
    warmUp: string;
  };
  groups: { consumer: string; steady: string; reference: string };
}

export default async function streamingBench(): Promise<void> {
  // Its own schema, queue prefix, topics and groups; the job children get the same environment.
  const t = testEnv('bench');
  const topics = {
    topic: t.topic('tx'),
    steady: t.topic('steady'),
    dlqTopic: t.topic('dlq'),
    alertsTopic: t.topic('alerts'),
    reference: t.topic('producer-performance'),
    warmUp: t.topic('warm-up'),
  };
  await migrate(t.config, t.log);
  const groups = {
    consumer: `${t.id}-group`,
    steady: `${t.id}-steady`,
    reference: `${t.id}-consumer-performance`,
  };
  const run: BenchRun = { ...t, resources: new Resources(t.config, t.log), topics, groups };
  try {
    const producer = await benchProducer(run);
    const consumer = await benchConsumer(run, {
      state: 'fresh',
      topic: run.topics.topic,
      group: run.groups.consumer,
    });
    const steady = await benchSteadyConsumer(run);
    console.log(
      `peak RSS, own process       producer-batch ${rss(producer)} | consumer-batch fresh ${rss(consumer)} ` +
        `| steady ${rss(steady)} (${fmt(MESSAGES)} messages each; goal ≤ ${megabytes(GOAL.peakRssBytes)} each)`,
    );
    await benchScoringAlone();
    benchQuality();
  } finally {
    await cleanUp(run);
  }
}

const rss = (report: ChildReport<unknown>) =>
  `${megabytes(report.peakRssBytes)} ${report.peakRssBytes <= GOAL.peakRssBytes ? '✓' : '✗'} ` +
  `(${megabytes(report.startRssBytes)} at start)`;

async function benchProducer(run: BenchRun): Promise<ChildReport<ProducerFigures>> {
  const report = await runJobInChild<ProducerFigures>(
    {
      job: 'producer-batch',
      messages: MESSAGES,
      params: { topic: run.topics.topic },
      warmUpTopic: run.topics.warmUp,
    },
    run.env,
  );
  const { produced, bytes, requests, durationMs, cpuMs } = report.figures;
  const perSecond = rate(produced, durationMs);
  // The reference gets tickflow's real average record, on a topic shaped like the transactions topic.
  const recordSize = Math.round(bytes / produced);
  await run.resources.kafka.ensureTopics([streamingTopicDefaults.transactions(run.topics.reference)]);
  const reference = await producerPerformance(run.config, run.log, {
    topic: run.topics.reference,
    messages: MESSAGES,
    recordSize,
  });
  console.log(
    againstReference(
      'producer-batch',
      `${fmt(perSecond)} msg/s`,
      { label: 'ProducerPerformance', value: `${fmt(reference.perSecond)} msg/s` },
      perSecond / reference.perSecond,
      `goal ≥ ${GOAL.producerRatio}×`,
    ),
  );
  console.log(
    `  producer-batch: ${fmt(produced)} messages (${fmt(recordSize)} B average), ${fmt(rate(bytes, durationMs) / 1e6, 1)} MB/s, ` +
      `${fmt(requests)} requests, ${fmt(durationMs)} ms, node CPU ${fmt(cpuMs)} ms (simulate + serialise + send)`,
  );
  console.log(
    `  ProducerPerformance: ${fmt(reference.messages)} records of ${recordSize} B, ${fmt(reference.mbPerSecond, 1)} MB/s, ` +
      REFERENCE_PRODUCER_PROPS.join(' '),
  );
  console.log(cpuBudget(produced, cpuMs, report.figures.serviceCpuMs, reference.perSecond));
  return report;
}

/**
 * Fresh: `account_profiles` holds nothing before the run (every account new). Steady: it holds every
 * account of the population, as in a deployment running for a while, so each account's history is
 * read and updated; the reference then COPYs the histories the run wrote, not the ones before it.
 */
interface ConsumerCase {
  state: 'fresh' | 'steady';
  topic: string;
  group: string;
  profilesSince?: Date;
}

async function benchConsumer(run: BenchRun, bench: ConsumerCase): Promise<ChildReport<ConsumerFigures>> {
  const { dlqTopic, alertsTopic } = run.topics;
  const { topic, group, state } = bench;
  const report = await runJobInChild<ConsumerFigures>(
    {
      job: 'consumer-batch',
      messages: MESSAGES,
      params: { topic, dlqTopic, alertsTopic, group },
    },
    run.env,
  );
  const { consumed, runs, durationMs, cpuMs, emptyRunOverheadsMs } = report.figures;
  const perSecond = rate(consumed, durationMs);
  // The rows the consumer just stored, written again by PostgreSQL alone.
  const alone = await copySameRowsAlone(run.resources.db, { profilesSince: bench.profilesSince });
  const aloneRate = rate(alone.transactions, alone.ms);
  console.log(
    againstReference(
      `consumer-batch ${state}`,
      `${fmt(perSecond)} msg/s`,
      { label: 'PostgreSQL COPY alone', value: `${fmt(aloneRate)} transactions/s` },
      perSecond / aloneRate,
      `goal ≥ ${GOAL.consumerRatio}×`,
    ),
  );
  if (state === 'fresh') await printConsumerPerformance(run, topic, perSecond);
  console.log(
    `  consumer-batch ${state}: ${fmt(consumed)} messages in ${runs} warm run(s), each taking the whole backlog ` +
      `(consume + validate + score + PostgreSQL + alerts + commit), ${fmt(durationMs)} ms, node CPU ${fmt(cpuMs)} ms`,
  );
  console.log(cpuBudget(consumed, cpuMs, report.figures.serviceCpuMs, aloneRate));
  console.log(
    `  PostgreSQL COPY alone: the same ${fmt(alone.rows)} rows (${megabytes(alone.bytes)}) into the same 4 tables, ` +
      `one transaction, ${fmt(alone.ms)} ms${postgresCpuOf(alone)}`,
  );
  const median = [...emptyRunOverheadsMs].sort((a, b) => a - b)[2] as number;
  console.log(
    `empty warm run (${state})${' '.repeat(state === 'fresh' ? 6 : 5)}+${fmt(median)} ms over maxWait=${EMPTY_RUN_WAIT_MS} ms ` +
      `(median of 5: ${emptyRunOverheadsMs.map((ms) => fmt(ms)).join(', ')}; goal ≤ ${GOAL.emptyRunOverheadMs} ms)`,
  );
  return report;
}

/** Kafka's own bound on the same topic, for scale. */
async function printConsumerPerformance(run: BenchRun, topic: string, perSecond: number): Promise<void> {
  const kafka = await consumerPerformance(run.config, run.log, {
    topic,
    messages: MESSAGES,
    group: run.groups.reference,
  });
  console.log(
    againstReference(
      'consumer-batch fresh',
      `${fmt(perSecond)} msg/s`,
      { label: 'ConsumerPerformance', value: `${fmt(kafka.perSecond)} msg/s` },
      perSecond / kafka.perSecond,
      "Kafka's own bound, no goal",
    ),
  );
  console.log(
    `  ConsumerPerformance: ${fmt(kafka.messages)} records, ${fmt(kafka.mbPerSecond, 1)} MB/s (fetch rate, group join left out)`,
  );
}

/**
 * The steady state: the tables emptied, a history for every account of the population, then as many
 * new messages on a topic of their own (same population, another seed), consumed and referenced
 * like the fresh run.
 */
async function benchSteadyConsumer(run: BenchRun): Promise<ChildReport<ConsumerFigures>> {
  const { db } = run.resources;
  await db.query(`truncate ${CONSUMER_TABLES.join(', ')}`);
  const started = performance.now();
  await fillProfiles(db, POPULATION);
  await db.query('vacuum analyze account_profiles');
  console.log(
    `steady state: account_profiles filled with ${fmt(POPULATION)} histories in ${fmt(performance.now() - started)} ms`,
  );
  await producerBatchJob.run(
    benchContext(run.resources, run.log),
    producerBatchJob.params.parse({ topic: run.topics.steady, count: MESSAGES, seed: 3 }),
  );
  const { rows } = await db.query<{ now: Date }>('select clock_timestamp() as now');
  return benchConsumer(run, {
    state: 'steady',
    topic: run.topics.steady,
    group: run.groups.steady,
    profilesSince: rows[0]?.now,
  });
}

/**
 * A history for accounts ACC-000001… (the simulator's ids) as a deployment would hold after a few
 * transactions each: written a day ago, so a run's writes are told apart by updated_at.
 */
async function fillProfiles(db: Resources['db'], accounts: number): Promise<void> {
  await db.query(
    `insert into account_profiles (account_id, profile, updated_at)
     select 'ACC-' || (case when i < 1000000 then lpad(i::text, 6, '0') else i::text end),
            jsonb_build_object('count', 4, 'meanLogAmount', 7.2 + (i % 100) / 50.0,
              'devices', jsonb_build_array('dev-' || lpad(to_hex(i), 12, '0')),
              'countries', jsonb_build_array('KE'),
              'recent', jsonb_build_array(extract(epoch from now() - interval '3 days') * 1000 + i % 86400000)),
            now() - interval '1 day'
       from generate_series(1, $1::int) as i`,
    [accounts],
  );
}

/** BENCH_STREAMING_MESSAGES (default 200,000): fewer while iterating, 1,000,000 for the figure. */
function messageCount(text: string | undefined): number {
  if (text === undefined) return 200_000;
  const count = Number(text);
  if (!Number.isInteger(count) || count < 10_000)
    throw new Error(`BENCH_STREAMING_MESSAGES must be a whole number ≥ 10000, got ${JSON.stringify(text)}`);
  return count;
}

/**
 * Where the machine's cores went during a run: the job's process, PostgreSQL and the broker. Their
 * sum over the cores is the shortest the run could take doing the same work with perfect overlap,
 * so the rate and ratio it implies bound what pipelining alone can reach.
 */
function cpuBudget(messages: number, nodeMs: number, services: ServiceCpu | undefined, reference: number) {
  if (!services)
    return '  CPU during the run: PostgreSQL and the broker do not run on this machine (or no /proc)';
  const total = nodeMs + services.postgres + services.kafka;
  const cores = os.availableParallelism();
  const best = rate(messages, total / cores);
  return (
    `  CPU during the run: node ${fmt(nodeMs)} ms + postgres ${fmt(services.postgres)} ms + kafka ${fmt(services.kafka)} ms ` +
    `= ${fmt(total)} ms; on ${cores} cores no run doing this work beats ${fmt(total / cores)} ms ` +
    `(${fmt(best)} msg/s, ${(best / reference).toFixed(2)}× the reference)`
  );
}

/** PostgreSQL's CPU for the COPY alone, to set against its CPU in the run (its lookups, its upserts). */
function postgresCpuOf(alone: CopyAlone): string {
  return alone.postgresCpuMs === undefined ? '' : `, postgres CPU ${fmt(alone.postgresCpuMs)} ms`;
}

/** The CPU part of a consumer run without any I/O: where the end-to-end time goes when it is not PostgreSQL. */
async function benchScoringAlone(): Promise<void> {
  const values = simulate({ count: MESSAGES, fraudRate: 0.05, seed: 99 }).map((t) =>
    Buffer.from(JSON.stringify(t)),
  );
  const started = performance.now();
  const transactions = values.map((value) => {
    const parsed = parseValue(value);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.transaction;
  });
  const items = featurize(transactions, new Map());
  await score(items, builtinPredictor, 0.5, new AbortController().signal);
  const ms = performance.now() - started;
  console.log(
    `parse + validate + score    ${fmt(rate(MESSAGES, ms))} msg/s alone (${fmt(MESSAGES)} in ${fmt(ms)} ms, no I/O)`,
  );
}

function benchQuality(): void {
  const { model, rule, labelled, fraud } = evaluateSimulation({
    count: MESSAGES,
    fraudRate: 0.05,
    seed: 42,
    threshold: 0.5,
  });
  const pct = (value: number | null) => (value === null ? 'n/a' : `${(value * 100).toFixed(1)}%`);
  console.log(
    `quality (${fmt(labelled)} simulated, ${fmt(fraud)} fraud)  model precision ${pct(model.precision)} recall ${pct(model.recall)}` +
      ` | amount rule precision ${pct(rule.precision)} recall ${pct(rule.recall)}`,
  );
}

/** Everything the run made is its own (random id): topics, groups, the schema. */
async function cleanUp(run: BenchRun): Promise<void> {
  await deleteTopics(run.resources.kafkajs.client, Object.values(run.topics)).catch(() => {});
  const admin = await run.resources.kafkajs.admin();
  await admin.deleteGroups(Object.values(run.groups)).catch(() => {});
  await run.resources.close();
  await run.cleanup();
}
