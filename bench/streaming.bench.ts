import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { consumerBatchJob } from '../jobs/consumer-batch';
import type { JobContext } from '../jobs/job';
import { producerBatchJob } from '../jobs/producer-batch';
import { type Config, loadConfig } from '../src/config/config';
import { migrate } from '../src/db/migrate';
import { ScoringWrite } from '../src/db/scoring-store';
import { evaluateSimulation } from '../src/domain/evaluate-simulation';
import { builtinPredictor } from '../src/domain/model';
import { featurize, score } from '../src/domain/scoring';
import { simulate } from '../src/domain/simulator';
import { parseTransaction } from '../src/domain/transaction';
import { deleteTopics } from '../src/kafka/topics';
import { createLogger } from '../src/log/logger';
import { Resources } from '../src/runtime/resources';

/**
 * Streaming figures against the real services: producer, consumer-batch end to end, the PostgreSQL
 * write alone, the cost of an empty warm run, peak memory, and model quality vs the amount rule.
 */
const MESSAGES = 200_000;
const TARGET = { producerPerSecond: 50_000, consumerPerSecond: 20_000, emptyRunOverheadMs: 50 };
const EMPTY_RUN_WAIT_MS = 200;
/** batchSize of each timed consumer-batch run, through the job's own run(). */
const CONSUMER_BATCH_SIZE = 50_000;

/** This process's CPU time so far (user + system, µs): next to wall time it shows who waits on whom. */
const cpuUsed = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const rate = (count: number, ms: number) => count / (ms / 1000);
const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });
const ratio = (value: number, target: number, higherIsBetter = true) =>
  `${(higherIsBetter ? value / target : target / value).toFixed(2)}× target`;

export default async function streamingBench(): Promise<void> {
  const id = `bench_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...process.env, DATABASE_SCHEMA: id, LOG_LEVEL: 'warn' });
  const log = createLogger('warn', id);
  const topics = { topic: `${id}.tx`, dlqTopic: `${id}.dlq`, alertsTopic: `${id}.alerts` };
  await migrate(config, log);
  const resources = new Resources(config, log);
  const ctx: JobContext = {
    signal: new AbortController().signal,
    log,
    resources,
    schedule: 'bench',
    runId: id,
    attempt: 1,
    window: { from: new Date(), to: new Date() },
  };
  try {
    await benchProducer(ctx, topics.topic);
    await benchConsumer(ctx, { ...topics, group: `${id}-group` });
    await benchPostgresWrite(resources);
    benchQuality();
    console.log(`peak RSS                  ${fmt(process.resourceUsage().maxRSS / 1024)} MB`);
  } finally {
    await resources.close();
    await deleteTopics(resources.kafka, Object.values(topics)).catch(() => {});
    await dropSchema(config, id);
  }
}

async function benchProducer(ctx: JobContext, topic: string): Promise<void> {
  // A first small run connects the producer and creates the topic, as a warm worker would have.
  await producerBatchJob.run(ctx, producerBatchJob.params.parse({ topic, count: 100, seed: 1 }));
  const cpuBefore = cpuUsed();
  const result = await producerBatchJob.run(
    ctx,
    producerBatchJob.params.parse({ topic, count: MESSAGES - 100, seed: 2 }),
  );
  const ms = result.durationMs as number;
  const perSecond = rate(result.produced as number, ms);
  const cpuMs = (cpuUsed() - cpuBefore) / 1000;
  const generating = performance.now();
  for (const transaction of simulate({ count: MESSAGES, fraudRate: 0.05, seed: 3 }))
    JSON.stringify(transaction);
  const generateMs = performance.now() - generating;
  console.log(
    `producer-batch            ${fmt(perSecond)} msg/s, ${fmt((result.bytes as number) / 1e6 / (ms / 1000), 1)} MB/s ` +
      `(${fmt(result.produced as number)} messages in ${fmt(result.requests as number)} requests, simulate + serialise + send, ` +
      `${fmt(ms)} ms, node CPU ${fmt(cpuMs)} ms) — ${ratio(perSecond, TARGET.producerPerSecond)}`,
  );
  console.log(
    `  of which simulate + JSON ${fmt(generateMs)} ms for ${fmt(MESSAGES)} (${fmt(rate(MESSAGES, generateMs))} msg/s alone)`,
  );
}

async function benchConsumer(
  ctx: JobContext,
  params: { topic: string; group: string; dlqTopic: string; alertsTopic: string },
): Promise<void> {
  const run = (batchSize: number, maxWait: number) =>
    consumerBatchJob.run(ctx, consumerBatchJob.params.parse({ ...params, batchSize, maxWait }));
  // Join the group first (once per process in production), then time only the warm runs.
  let consumed = (await run(1, 0)).consumed as number;
  let ms = 0;
  let runs = 0;
  const cpuBefore = cpuUsed();
  while (consumed < MESSAGES) {
    const result = await run(CONSUMER_BATCH_SIZE, 1_000);
    consumed += result.consumed as number;
    ms += result.durationMs as number;
    runs++;
    if (result.consumed === 0) break;
  }
  const perSecond = rate(consumed - 1, ms);
  const cpuMs = (cpuUsed() - cpuBefore) / 1000;
  console.log(
    `consumer-batch            ${fmt(perSecond)} msg/s end to end (${fmt(consumed - 1)} messages in ${runs} runs of ` +
      `≤ ${fmt(CONSUMER_BATCH_SIZE)}: consume + validate + score + PostgreSQL + commit, ${fmt(ms)} ms, ` +
      `node CPU ${fmt(cpuMs)} ms) — ${ratio(perSecond, TARGET.consumerPerSecond)}`,
  );
  const overheads: number[] = [];
  for (let i = 0; i < 5; i++)
    overheads.push(((await run(1_000, EMPTY_RUN_WAIT_MS)).durationMs as number) - EMPTY_RUN_WAIT_MS);
  const median = overheads.sort((a, b) => a - b)[2] as number;
  console.log(
    `empty warm run            +${fmt(median)} ms over maxWait=${EMPTY_RUN_WAIT_MS} ms (median of 5: ${overheads.join(', ')}) — ` +
      ratio(Math.max(median, 1), TARGET.emptyRunOverheadMs, false),
  );
}

async function benchPostgresWrite(resources: Resources): Promise<void> {
  const bytes = simulate({ count: MESSAGES, fraudRate: 0.05, seed: 99 }).map((t) =>
    Buffer.from(JSON.stringify(t)),
  );
  const cpuStarted = performance.now();
  const transactions = bytes.map((value) => {
    const parsed = parseTransaction(value);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.transaction;
  });
  const profiles = new Map();
  const items = featurize(transactions, profiles);
  const scored = await score(items, builtinPredictor, 0.5, new AbortController().signal);
  const cpuMs = performance.now() - cpuStarted;
  console.log(
    `parse + validate + score  ${fmt(rate(MESSAGES, cpuMs))} msg/s alone (${fmt(MESSAGES)} in ${fmt(cpuMs)} ms, no I/O)`,
  );
  const batch = transactions.map((transaction, i) => ({
    transaction,
    position: { topic: 'bench', partition: 0, offset: String(i) },
    prediction: scored[i] as (typeof scored)[number],
  }));
  const started = performance.now();
  const write = new ScoringWrite(resources.db, builtinPredictor.name);
  write.add(batch);
  await write.commit(profiles);
  const ms = performance.now() - started;
  console.log(
    `PostgreSQL write alone    ${fmt(rate(MESSAGES, ms))} transactions/s (${fmt(MESSAGES)} transactions + predictions ` +
      `+ alerts + ${fmt(profiles.size)} profiles in one transaction, COPY, ${fmt(ms)} ms)`,
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

async function dropSchema(config: Config, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
  await client.end();
}
