import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type SchedulerApp, startSchedulerApp } from '../src/app/scheduler-app';
import { loadConfig } from '../src/config/config';
import { backfill } from '../src/control/backfill';
import { createPool } from '../src/db/pool';
import { createLogger } from '../src/log/logger';
import { waitFor } from '../test/support';
import { againstReference } from './format';

/**
 * A backfill must not starve live runs: a real scheduler and its workers run `live` (every 1s,
 * overlap skip, a 200 ms sleep); then a backfill of BENCH_BACKFILL_WINDOWS (500) windows of it is
 * queued and drains beside it. From `runs`, the live (trigger schedule) runs' start delay
 * (started_at − due_at) while the backfill drains, against the same schedule's runs just before
 * (the reference, measured in the same process). Target: p99 under 1 s (issue 19); the
 * structural bound is one backfill run (200 ms) plus the reference's own delay.
 */
const WINDOWS = wholeNumber('BENCH_BACKFILL_WINDOWS', 500, 1, 1_000);
const REFERENCE_RUNS = wholeNumber('BENCH_BACKFILL_REFERENCE_RUNS', 30, 5, 1_000);
const SLEEP_MS = 200;
const TARGET_P99_MS = 1_000;
const SCHEDULE = 'live';

export default async function backfillBench(): Promise<void> {
  console.log(
    `${SCHEDULE}: every 1s, overlap skip, sleep ${SLEEP_MS} ms; ${REFERENCE_RUNS} live runs alone (reference), ` +
      `then a ${WINDOWS}-window backfill of it (~${Math.ceil((REFERENCE_RUNS + (WINDOWS * SLEEP_MS * 1.35) / 1000) / 60)} min)`,
  );
  const id = `bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-bench-'));
  const file = path.join(dir, 'schedules.yaml');
  fs.writeFileSync(
    file,
    `schedules:\n  ${SCHEDULE}:\n    job: sleep\n    every: 1s\n    params: { ms: ${SLEEP_MS} }\n    keep: 20\n`,
  );
  const config = loadConfig({ ...process.env, QUEUE_PREFIX: id, DATABASE_SCHEMA: id, SCHEDULES_FILE: file });
  const log = createLogger('error', id);
  const db = createPool(config, 2);
  let running: SchedulerApp | undefined;
  try {
    running = await startSchedulerApp(config, log, { workers: true, web: false });
    // The first run is due when the job scheduler is created, while everything is still starting.
    await waitFor(
      async () => (await liveRuns(db, new Date(0), new Date(8.64e15))).length > REFERENCE_RUNS,
      `${REFERENCE_RUNS + 1} live runs`,
      REFERENCE_RUNS * 3_000,
    );
    const reference = (await liveRuns(db, new Date(0), new Date(8.64e15))).slice(1);

    const queuedAt = new Date();
    const from = new Date('2024-01-01T00:00:00Z');
    const queued = await backfill(running.control, SCHEDULE, {
      from,
      to: new Date(from.getTime() + WINDOWS * 1_000),
      by: 'bench',
    });
    const drained = await waitFor(
      async () => {
        const done = await backfillRuns(db);
        return done.length === queued.runs.length && done.every((run) => run.finished !== null) && done;
      },
      `the ${WINDOWS}-window backfill to drain`,
      WINDOWS * SLEEP_MS * 10,
    );
    await running.stop();
    running = undefined;

    const starts = drained.map((run) => run.started).sort((a, b) => a - b);
    const lastStart = starts.at(-1) ?? queuedAt.getTime();
    const drainMs = Math.max(...drained.map((run) => run.finished ?? 0)) - queuedAt.getTime();
    // Live runs due while backfill runs were still waiting to start: the ones a backfill could starve.
    const during = await liveRuns(db, queuedAt, new Date(lastStart));
    report(reference, during, starts, drainMs);
  } finally {
    await running?.stop();
    await db.query(`drop schema if exists ${pg.escapeIdentifier(id)} cascade`);
    await db.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface LiveRun {
  due: number;
  started: number;
}

async function liveRuns(db: pg.Pool, after: Date, before: Date): Promise<LiveRun[]> {
  const { rows } = await db.query<{ due: Date; started: Date }>(
    `select due_at as due, started_at as started from runs
      where schedule = $1 and trigger = 'schedule' and started_at is not null and due_at > $2 and due_at <= $3
      order by due_at`,
    [SCHEDULE, after, before],
  );
  return rows.map((row) => ({ due: row.due.getTime(), started: row.started.getTime() }));
}

async function backfillRuns(db: pg.Pool): Promise<{ started: number; finished: number | null }[]> {
  const { rows } = await db.query<{ started: Date | null; finished: Date | null }>(
    `select started_at as started, finished_at as finished from runs
      where schedule = $1 and trigger = 'backfill' and state = 'completed'`,
    [SCHEDULE],
  );
  return rows.map((row) => ({
    started: row.started?.getTime() ?? 0,
    finished: row.finished?.getTime() ?? null,
  }));
}

function report(reference: LiveRun[], during: LiveRun[], backfillStarts: number[], drainMs: number): void {
  const delays = (runs: LiveRun[]) => runs.map((run) => run.started - run.due);
  const [alone, beside] = [delays(reference), delays(during)];
  // How many backfill runs a live run let go first: started after it was due, before it started.
  const overtaken = during.map(
    (run) => backfillStarts.filter((start) => start > run.due && start < run.started).length,
  );
  const line = (label: string, values: number[]) =>
    `  ${label.padEnd(34)}p50 ${percentile(values, 50)} ms   p99 ${percentile(values, 99)} ms   max ${Math.max(...values)} ms   (${values.length} runs)`;
  console.log(`\nlive start delay (started_at − due_at, from runs)`);
  console.log(line('without a backfill (reference)', alone));
  console.log(line(`while ${backfillStarts.length} backfill runs drain`, beside));
  console.log(
    `  backfill: drained in ${(drainMs / 1000).toFixed(1)} s (${((backfillStarts.length * 1000) / drainMs).toFixed(2)} runs/s); ` +
      `backfill runs started ahead of a due live run: max ${Math.max(0, ...overtaken)}`,
  );
  const p99 = percentile(beside, 99);
  const p99Alone = percentile(alone, 99);
  console.log(
    againstReference(
      '  p99 beside the backfill',
      `${p99} ms`,
      { label: 'alone', value: `${p99Alone} ms` },
      p99 / Math.max(1, p99Alone),
      `target p99 < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? 'met' : 'MISSED'}`,
    ),
  );
  console.log(
    againstReference(
      '  p50 beside the backfill',
      `${percentile(beside, 50)} ms`,
      { label: 'alone', value: `${percentile(alone, 50)} ms` },
      percentile(beside, 50) / Math.max(1, percentile(alone, 50)),
      `bound: one backfill run, ${SLEEP_MS} ms, plus the reference`,
    ),
  );
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function wholeNumber(variable: string, fallback: number, min: number, max: number): number {
  const text = process.env[variable];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(
      `${variable}=${text} is not a whole number from ${min} to ${max}; unset it for ${fallback}`,
    );
  }
  return value;
}
