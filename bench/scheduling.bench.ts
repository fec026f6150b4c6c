import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startSchedulerApp } from '../src/app/scheduler-app';
import { loadConfig } from '../src/config/config';
import { createPool } from '../src/db/pool';
import { createLogger } from '../src/log/logger';
import { bullConnection } from '../src/queues/queues';
import { deletePrefix } from '../test/scheduler/redis-keys';
import { waitFor } from '../test/scheduler/support';

/**
 * Scheduling precision: two `every` schedules (1s and 100ms) run side by side through the real
 * scheduler and workers; job_runs gives each run's due time and its start. Reports the start delay
 * (start − due) and the interval between consecutive starts. Target: p99 delay ≤ 50 ms at 1s.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const TARGET_P99_MS = 50;
const SCHEDULES = { every_1s: 1_000, every_100ms: 100 };

export default async function schedulingBench(): Promise<void> {
  const id = `bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-bench-'));
  const file = path.join(dir, 'schedules.yaml');
  fs.writeFileSync(file, scheduleYaml());
  const config = loadConfig({ ...process.env, QUEUE_PREFIX: id, DATABASE_SCHEMA: id, SCHEDULES_FILE: file });
  const log = createLogger('warn', id);
  const db = createPool(config, 2);
  const redis = bullConnection(config.redisUrl);
  // The scheduler itself warns when hz is low; the figures below depend on it, so print it.
  const [, hz] = (await redis.config('GET', 'hz')) as string[];
  console.log(
    `${RUNS} runs of the 1s schedule (~${Math.ceil((RUNS * 1.05) / 60)} min), 100ms alongside; Redis hz ${hz}`,
  );
  try {
    const running = await startSchedulerApp(config, log, { workers: true, web: false });
    try {
      // Twice the nominal time: a broken worker must end the bench, not hang it.
      await waitFor(
        async () => (await completedRuns(db, 'every_1s')) > RUNS,
        `${RUNS + 1} runs of every_1s`,
        RUNS * 2_000,
      );
    } finally {
      await running.stop();
    }
    for (const [schedule, every] of Object.entries(SCHEDULES))
      report(schedule, every, await runsOf(db, schedule));
  } finally {
    await db.query(`drop schema if exists ${pg.escapeIdentifier(id)} cascade`);
    await db.end();
    await deletePrefix(redis, id);
    redis.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function scheduleYaml(): string {
  const entries = Object.entries(SCHEDULES).map(
    ([name, ms]) => `  ${name}:\n    job: sleep\n    every: ${ms}ms\n    keep: 10\n`,
  );
  return `schedules:\n${entries.join('')}`;
}

async function completedRuns(db: pg.Pool, schedule: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from job_runs where schedule = $1 and state = 'completed'`,
    [schedule],
  );
  return rows[0]?.n ?? 0;
}

interface Run {
  scheduled: number;
  started: number;
}

async function runsOf(db: pg.Pool, schedule: string): Promise<Run[]> {
  const { rows } = await db.query<{ scheduled: Date; started: Date }>(
    `select scheduled_at as scheduled, started_at as started from job_runs
     where schedule = $1 and attempt = 1 order by scheduled_at`,
    [schedule],
  );
  // The first run is due when the scheduler is created, while everything is still starting up.
  return rows.slice(1).map((r) => ({ scheduled: r.scheduled.getTime(), started: r.started.getTime() }));
}

function report(schedule: string, every: number, runs: Run[]): void {
  const delays = runs.map((r) => r.started - r.scheduled);
  const gaps = runs.slice(1).map((r, i) => r.started - (runs[i]?.started ?? r.started));
  const missed = runs.slice(1).filter((r, i) => r.scheduled - (runs[i]?.scheduled ?? 0) > every).length;
  const span = (runs.at(-1)?.started ?? 0) - (runs[0]?.started ?? 0);
  const meanGap = span / Math.max(1, runs.length - 1);
  const p99 = percentile(delays, 99);
  console.log(`\n${schedule} (every ${every}ms): ${runs.length} runs`);
  console.log(
    `  start delay   p50 ${percentile(delays, 50)} ms   p99 ${p99} ms   max ${Math.max(...delays)} ms` +
      (every === 1_000
        ? `   → p99 is ${(p99 / TARGET_P99_MS).toFixed(2)}× the ${TARGET_P99_MS} ms target`
        : ''),
  );
  console.log(
    `  interval      mean ${meanGap.toFixed(2)} ms (drift ${(meanGap - every).toFixed(3)} ms/run)   ` +
      `p1 ${percentile(gaps, 1)} ms   p99 ${percentile(gaps, 99)} ms   missed slots ${missed}`,
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}
