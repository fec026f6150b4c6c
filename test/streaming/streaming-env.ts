import type { z } from 'zod';
import { consumerBatchJob } from '../../jobs/consumer-batch';
import { producerBatchJob } from '../../jobs/producer-batch';
import type { Config } from '../../src/config/config';
import { migrate } from '../../src/db/migrate';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import type { JobContext, RunWindow } from '../../src/runtime/job';
import { jobContext as runContext } from '../../src/runtime/job-context';
import { Resources } from '../../src/runtime/resources';
import { type TestEnv, testEnv } from '../support';

type ConsumerParams = z.input<typeof consumerBatchJob.params>;
type ProducerParams = z.input<typeof producerBatchJob.params>;

/** A migrated schema, its own topics and group, and a hand-built JobContext: jobs run without the scheduler. */
export interface StreamingEnv extends TestEnv {
  /** Replaceable: a test may close it and open a new process's worth of connections. */
  resources: Resources;
  topics: { transactions: string; dlq: string; alerts: string };
  group: string;
  /** Consumer params for this env's topics and group. */
  consumerParams(overrides?: Partial<ConsumerParams>): ConsumerParams;
  /** A producer run; `window` is the run's window (default: none, so it ends now). */
  produce(overrides?: Partial<ProducerParams>, window?: RunWindow): Promise<Record<string, unknown>>;
  consume(overrides?: Partial<ConsumerParams>, resources?: Resources): Promise<Record<string, unknown>>;
  count(table: string): Promise<number>;
}

/** A run's context as the worker builds it; `window` defaults to the empty span ending now. */
export function jobContext(
  resources: Resources,
  env: TestEnv,
  signal = new AbortController().signal,
  window: RunWindow = { from: new Date(), to: new Date() },
): JobContext {
  return runContext(resources, { signal, log: env.log, schedule: 'test', runId: env.id, attempt: 1, window });
}

export async function streamingEnv(label: string): Promise<StreamingEnv> {
  const t = testEnv(label);
  await migrate(t.config, t.log);
  const resources = new Resources(t.config, t.log);
  const topics = { transactions: t.topic('tx'), dlq: t.topic('dlq'), alerts: t.topic('alerts') };
  const group = `${t.id}-group`;
  const consumerParams = (overrides: Partial<ConsumerParams> = {}): ConsumerParams => ({
    topic: topics.transactions,
    group,
    dlqTopic: topics.dlq,
    alertsTopic: topics.alerts,
    batchSize: 1_000,
    maxWait: 1_000,
    ...overrides,
  });
  const env: StreamingEnv = {
    ...t,
    resources,
    topics,
    group,
    consumerParams,
    produce: (overrides = {}, window) =>
      producerBatchJob.run(
        jobContext(env.resources, t, undefined, window),
        producerBatchJob.params.parse({ topic: topics.transactions, ...overrides }),
      ),
    consume: (overrides = {}, other = env.resources) =>
      consumerBatchJob.run(jobContext(other, t), consumerBatchJob.params.parse(consumerParams(overrides))),
    async count(table) {
      const { rows } = await env.resources.db.query<{ n: number }>(`select count(*)::int as n from ${table}`);
      return rows[0]?.n ?? 0;
    },
    async cleanup() {
      await env.resources.close();
      await deleteTopics(createKafka(t.config), Object.values(topics)).catch(() => {});
      await t.cleanup();
    },
  };
  return env;
}

/** Runs consumer-batch until the group has no lag, returning every run's result. */
export async function drain(env: StreamingEnv, overrides: Partial<ConsumerParams> = {}, maxRuns = 30) {
  const results: Array<Record<string, unknown>> = [];
  for (let run = 0; run < maxRuns; run++) {
    const result = await env.consume(overrides);
    results.push(result);
    if (result.lagAfter === 0 && result.consumed === 0) return results;
  }
  throw new Error(`topic not drained after ${maxRuns} runs: ${JSON.stringify(results.at(-1))}`);
}

/** The group's committed offset per partition of the env's transactions topic ('-1': none yet). */
export async function committedOffsets(env: StreamingEnv): Promise<string[]> {
  const admin = await env.resources.kafkajs.admin();
  const [topic] = await admin.fetchOffsets({ groupId: env.group, topics: [env.topics.transactions] });
  return (topic?.partitions ?? []).map((p) => p.offset);
}

export type { Config };

/** A numeric field of run results added up (a field a run left out counts 0). */
export const sum = (runs: Array<Record<string, unknown>>, field: string): number =>
  runs.reduce((total, run) => total + ((run[field] as number | undefined) ?? 0), 0);
