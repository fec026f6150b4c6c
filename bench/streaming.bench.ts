import os from 'node:os';
import { parseValue } from '../src/consumer/fast-transaction';
import { migrate } from '../src/db/migrate';
import { evaluateSimulation } from '../src/domain/evaluate-simulation';
import { builtinPredictor } from '../src/domain/model';
import { featurize, score } from '../src/domain/scoring';
import { simulate } from '../src/domain/simulator';
import { streamingTopicDefaults } from '../src/kafka/streaming-topics';
import { deleteTopics } from '../src/kafka/topics';
import { Resources } from '../src/runtime/resources';
import { type TestEnv, testEnv } from '../test/support';
import { againstReference, fmt, megabytes, rate } from './format';
import {
  type ChildReport,
  type ConsumerFigures,
  EMPTY_RUN_WAIT_MS,
  type ProducerFigures,
  runJobInChild,
} from './job-child';
import { consumerPerformance, producerPerformance, REFERENCE_PRODUCER_PROPS } from './kafka-perf';
import { type CopyAlone, copySameRowsAlone } from './postgres-copy';
import type { ServiceCpu } from './service-cpu';

/**
 * Streaming figures against the real services, each next to the limit measured in the same run:
 * producer-batch vs Kafka's ProducerPerformance, consumer-batch end to end vs PostgreSQL COPY of
 * the same rows alone (and Kafka's ConsumerPerformance), each job's peak RSS in a process of its own.
 */
const MESSAGES = 200_000;
const GOAL = {
  producerRatio: 0.5,
  consumerRatio: 0.8,
  peakRssBytes: 300 * 1024 * 1024,
  emptyRunOverheadMs: 50,
};

interface BenchRun extends TestEnv {
  resources: Resources;
  topics: { topic: string; dlqTopic: string; alertsTopic: string; reference: string; warmUp: string };
  groups: { consumer: string; reference: string };
}

export default async function streamingBench(): Promise<void> {
  // Its own schema, queue prefix, topics and groups; the job children get the same environment.
  const t = testEnv('bench');
  const topics = {
    topic: t.topic('tx'),
    dlqTopic: t.topic('dlq'),
    alertsTopic: t.topic('alerts'),
    reference: t.topic('producer-performance'),
    warmUp: t.topic('warm-up'),
  };
  await migrate(t.config, t.log);
  const groups = { consumer: `${t.id}-group`, reference: `${t.id}-consumer-performance` };
  const run: BenchRun = { ...t, resources: new Resources(t.config, t.log), topics, groups };
  try {
    const producer = await benchProducer(run);
    const consumer = await benchConsumer(run);
    console.log(
      `peak RSS, own process       producer-batch ${rss(producer)} | consumer-batch ${rss(consumer)} ` +
        `(${fmt(MESSAGES)} messages each; goal ≤ ${megabytes(GOAL.peakRssBytes)} each)`,
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

async function benchConsumer(run: BenchRun): Promise<ChildReport<ConsumerFigures>> {
  const { topic, dlqTopic, alertsTopic } = run.topics;
  const report = await runJobInChild<ConsumerFigures>(
    {
      job: 'consumer-batch',
      messages: MESSAGES,
      params: { topic, dlqTopic, alertsTopic, group: run.groups.consumer },
    },
    run.env,
  );
  const { consumed, runs, durationMs, cpuMs, emptyRunOverheadsMs } = report.figures;
  const perSecond = rate(consumed, durationMs);
  // The rows the consumer just stored, written again by PostgreSQL alone.
  const alone = await copySameRowsAlone(run.resources.db);
  const aloneRate = rate(alone.transactions, alone.ms);
  console.log(
    againstReference(
      'consumer-batch end to end',
      `${fmt(perSecond)} msg/s`,
      { label: 'PostgreSQL COPY alone', value: `${fmt(aloneRate)} transactions/s` },
      perSecond / aloneRate,
      `goal ≥ ${GOAL.consumerRatio}×`,
    ),
  );
  const kafka = await consumerPerformance(run.config, run.log, {
    topic,
    messages: consumed,
    group: run.groups.reference,
  });
  console.log(
    againstReference(
      'consumer-batch end to end',
      `${fmt(perSecond)} msg/s`,
      { label: 'ConsumerPerformance', value: `${fmt(kafka.perSecond)} msg/s` },
      perSecond / kafka.perSecond,
      "Kafka's own bound, no goal",
    ),
  );
  console.log(
    `  consumer-batch: ${fmt(consumed)} messages in ${runs} warm run(s), each taking the whole backlog ` +
      `(consume + validate + score + PostgreSQL + alerts + commit), ${fmt(durationMs)} ms, node CPU ${fmt(cpuMs)} ms`,
  );
  console.log(cpuBudget(consumed, cpuMs, report.figures.serviceCpuMs, aloneRate));
  console.log(
    `  PostgreSQL COPY alone: the same ${fmt(alone.rows)} rows (${megabytes(alone.bytes)}) into the same 4 tables, ` +
      `one transaction, ${fmt(alone.ms)} ms${postgresCpuOf(alone)}`,
  );
  console.log(
    `  ConsumerPerformance: ${fmt(kafka.messages)} records, ${fmt(kafka.mbPerSecond, 1)} MB/s (fetch rate, group join left out)`,
  );
  const median = [...emptyRunOverheadsMs].sort((a, b) => a - b)[2] as number;
  console.log(
    `empty warm run              +${fmt(median)} ms over maxWait=${EMPTY_RUN_WAIT_MS} ms ` +
      `(median of 5: ${emptyRunOverheadsMs.map((ms) => fmt(ms)).join(', ')}; goal ≤ ${GOAL.emptyRunOverheadMs} ms)`,
  );
  return report;
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
