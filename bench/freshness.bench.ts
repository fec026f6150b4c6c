import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { startSchedulerApp } from '../src/app/scheduler-app';
import { migrate } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import { freshnessOfRuns } from '../src/db/run-freshness';
import { createKafka } from '../src/kafka/client';
import { deleteTopics } from '../src/kafka/topics';
import { createLogger } from '../src/log/logger';
import {
  FRESHNESS_STAGES,
  type FreshnessCounts,
  FreshnessProbe,
  type FreshRow,
} from '../src/metrics/freshness';
import { projectPath } from '../src/paths';
import { testEnv } from '../test/support';
import { fmt } from './format';

/**
 * Freshness under the default schedules (the repository's schedules.yaml, its topics and group
 * renamed to the bench's own): the scheduler with its workers runs them for BENCH_FRESHNESS_SECONDS
 * (default 120) at the file's 200 transactions/s, then again with the producer at 2,000/s; the
 * consumer runs' results give p50/p99 from event time to stored and to alert published. Runs in the
 * first BENCH_FRESHNESS_WARMUP seconds (default 10: topics made, first connections) are left out.
 * Also: what the FreshnessProbe costs a consumer per row, alone.
 */
const SECONDS = Number(process.env.BENCH_FRESHNESS_SECONDS ?? 120);
const WARMUP_SECONDS = Number(process.env.BENCH_FRESHNESS_WARMUP ?? 10);
const RATES = [200, 2_000];
/** The params that name a topic or a group: the bench's own, so it never reads or writes the real ones. */
const NAMED = ['topic', 'dlqTopic', 'alertsTopic', 'predictionsTopic', 'group'];

export default async function freshnessBench(): Promise<void> {
  console.log(
    `the default schedules for ${SECONDS} s each (first ${WARMUP_SECONDS} s left out); a shared machine: figures are noisy`,
  );
  for (const rate of RATES) await benchAt(rate);
  probeCost();
}

async function benchAt(perSecond: number): Promise<void> {
  const t = testEnv('fresh_bench');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-fresh-'));
  const file = path.join(dir, 'schedules.yaml');
  fs.writeFileSync(file, defaultSchedules(t.topic, perSecond));
  const config = { ...t.config, schedulesFile: file };
  const log = createLogger('error', t.id);
  await migrate(config, log);
  const db = createPool(config, 2);
  try {
    const running = await startSchedulerApp(config, log, { workers: true, web: false });
    const started = Date.now();
    const cpu = process.cpuUsage();
    try {
      await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000));
    } finally {
      await running.stop();
    }
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const since = new Date(started + WARMUP_SECONDS * 1_000);
    const stages = await freshnessOfRuns(db, ['consumer'], since);
    const { rows } = await db.query<{ runs: number; failed: number; lag: number | null }>(
      `select count(*) filter (where state = 'completed')::int as runs,
              count(*) filter (where state = 'failed')::int as failed,
              (array_agg((result->>'lagAfter')::bigint order by due_at desc)
                 filter (where state = 'completed'))[1] as lag
         from runs where schedule = 'consumer' and due_at > $1`,
      [since],
    );
    const runs = rows[0];
    console.log(
      `\n-- producer ${fmt(perSecond)} transactions/s: ${runs?.runs} consumer runs (${runs?.failed} failed), ` +
        `lag after the last ${runs?.lag ?? '?'}, process CPU ${fmt(cpuSeconds, 1)} s in ${SECONDS} s --`,
    );
    for (const stage of FRESHNESS_STAGES) console.log(line(stage, stages[stage]));
  } finally {
    await db.end();
    await deleteTopics(createKafka(config), topicsOf(file)).catch(() => {});
    await t.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function line(stage: string, counts: FreshnessCounts): string {
  const quantile = (q: number) => {
    const value = counts.quantile(q);
    return value === null ? '–' : `${fmt(value, 3)} s`;
  };
  return `  ${`event time → ${stage}`.padEnd(24)} p50 ${quantile(0.5).padStart(10)}   p99 ${quantile(0.99).padStart(10)}   (${fmt(counts.count)})`;
}

/** schedules.yaml as it is, but its topics and group the bench's own, and the producer at `perSecond`. */
function defaultSchedules(rename: (name: string) => string, perSecond: number): string {
  const spec = parse(fs.readFileSync(projectPath('schedules.yaml'), 'utf8')) as {
    topics: Record<string, unknown>;
    schedules: Record<string, { every?: string; params?: Record<string, unknown> }>;
  };
  spec.topics = Object.fromEntries(Object.entries(spec.topics).map(([name, topic]) => [rename(name), topic]));
  for (const schedule of Object.values(spec.schedules))
    for (const key of NAMED)
      if (typeof schedule.params?.[key] === 'string')
        schedule.params[key] = rename(schedule.params[key] as string);
  const producer = spec.schedules.producer;
  if (producer?.every !== '1s' || producer.params?.count !== 200)
    throw new Error('schedules.yaml: the bench expects the producer at 200 transactions every 1s');
  producer.params.count = perSecond;
  return stringify(spec);
}

const topicsOf = (file: string) =>
  Object.keys((parse(fs.readFileSync(file, 'utf8')) as { topics: object }).topics);

/** The probe's cost per row, alone: 1,000-row pieces as the consumer feeds it, 5 % flagged. */
function probeCost(): void {
  const now = Date.now();
  const piece: FreshRow[] = Array.from({ length: 1_000 }, (_, i) => ({
    transaction: { timestamp: new Date(now - (i % 997) * 7).toISOString() },
    prediction: { isFraud: i % 20 === 0 },
  }));
  const pieces = 2_000;
  const probe = new FreshnessProbe();
  for (let i = 0; i < 100; i++) probe.queued(piece);
  const started = process.cpuUsage();
  for (let i = 0; i < pieces; i++) probe.queued(piece);
  probe.committed();
  probe.published();
  probe.summary();
  const used = process.cpuUsage(started);
  const nanos = ((used.user + used.system) * 1_000) / (pieces * piece.length);
  console.log(
    `\nFreshnessProbe: ${fmt(nanos)} ns CPU per row (${fmt(pieces * piece.length)} rows in pieces of 1,000)`,
  );
}
