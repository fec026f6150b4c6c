import fs from 'node:fs';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { startSchedulerApp } from '../src/app/scheduler-app';
import { loadConfig } from '../src/config/config';
import { createPool } from '../src/db/pool';
import { createLogger } from '../src/log/logger';
import { sleep } from '../test/support';

/**
 * One size of `npm run bench -- schedules`, in a process of its own (so that its RSS and CPU are
 * that size's alone): `schedules-child.ts setup|measure <schedules> <every ms> <measured ms>`, with
 * the bench's world (its Redis, database, queue prefix and schedules file) in its environment;
 * sends its Figures (or `ready`) to the parent over IPC.
 */

export interface Figures {
  size: number;
  every: number;
  runs: number;
  missed: number;
  seconds: number;
  p50: number;
  p99: number;
  cpu: number;
  commitsPerSecond: number;
  redisClients: number;
  redisCpu: number;
  rss: number;
  /** The process's RSS before the scheduler started (node and the modules). */
  rssAtStart: number;
  /** What the heap holds after a full collection: the rest of the RSS is V8's headroom and native memory. */
  liveHeap: number;
}

/** The heap in use after a full collection (the child runs with --expose-gc). */
function liveHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}

/**
 * `setup`: sets the schedules up in Redis and PostgreSQL (the first pass makes every one, and each
 * runs at once) and lets their first runs pass. `measure`: a scheduler (re)started on schedules
 * that exist, as in operation, measured after a short warm-up.
 */
async function benchSize(
  mode: string,
  size: number,
  every: number,
  measureMs: number,
): Promise<Figures | undefined> {
  const config = loadConfig(process.env);
  const log = createLogger('error', config.queuePrefix);
  if (mode === 'setup') {
    // In steps: every new `every` schedule runs at once, and one process cannot absorb thousands
    // of first runs in the same instant within their locks (nor is a schedule file grown so).
    fs.writeFileSync(config.schedulesFile, schedulesYaml(Math.min(size, SETUP_STEP), every));
    const app = await startSchedulerApp(config, log, { workers: true, web: false });
    for (let count = 2 * SETUP_STEP; count < size + SETUP_STEP; count += SETUP_STEP) {
      await sleep(SETUP_STEP_MS);
      fs.writeFileSync(config.schedulesFile, schedulesYaml(Math.min(size, count), every));
    }
    await sleep(every + 2_000);
    await app.stop();
    return undefined;
  }
  const database = new URL(config.databaseUrl).pathname.slice(1);
  const db = createPool(config, 1);
  const probe = new Redis(config.redisUrl);
  try {
    const rssAtStart = process.memoryUsage().rss;
    const app = await startSchedulerApp(config, log, { workers: true, web: false });
    try {
      await sleep(WARM_UP_MS);
      const before = await readings(db, probe, database);
      await sleep(measureMs);
      const after = await readings(db, probe, database);
      const wall = after.at - before.at;
      const runs = await runsBetween(db, before.at, after.at - 1_000);
      const delays = runs.map((run) => run.started - run.scheduled);
      return {
        size,
        every,
        runs: runs.length,
        missed: missedSlots(runs, { size, every }, before.at, after.at - 1_000),
        seconds: wall / 1000,
        p50: percentile(delays, 50),
        p99: percentile(delays, 99),
        cpu: (100 * (after.cpu - before.cpu)) / wall,
        commitsPerSecond: (after.commits - before.commits) / (wall / 1000),
        // Less the probe's own.
        redisClients: after.redisClients - 1,
        redisCpu: (100 * (after.redisCpu - before.redisCpu)) / wall,
        rss: process.memoryUsage().rss,
        rssAtStart,
        liveHeap: liveHeap(),
      };
    } finally {
      await app.stop();
    }
  } finally {
    probe.disconnect();
    await db.end();
  }
}

/** Schedules added per step of the setup, and the time between steps. */
const SETUP_STEP = 500;
const SETUP_STEP_MS = 3_000;

/** `count` sleep schedules of 1 ms runs, named s0, s1, … */
export const schedulesYaml = (count: number, every: number) =>
  `schedules:\n${Array.from(
    { length: count },
    (_, i) => `  s${i}:\n    job: sleep\n    every: ${every}ms\n    params: { ms: 1 }\n    keep: 5\n`,
  ).join('')}`;

/** After a restart on existing schedules: the first pass finds them in line, the workers scan at once. */
const WARM_UP_MS = 5_000;

interface Readings {
  at: number;
  /** This process's CPU time, ms. */
  cpu: number;
  commits: number;
  redisClients: number;
  /** The Redis server's CPU time, ms. */
  redisCpu: number;
}

async function readings(db: pg.Pool, redis: Redis, database: string): Promise<Readings> {
  const usage = process.cpuUsage();
  const { rows } = await db.query<{ commits: string }>(
    'select xact_commit as commits from pg_stat_database where datname = $1',
    [database],
  );
  const info = await redis.info('cpu');
  const cpuOf = (field: string) => Number(info.match(new RegExp(`${field}:([\\d.]+)`))?.[1] ?? 0) * 1000;
  return {
    at: Date.now(),
    cpu: (usage.user + usage.system) / 1000,
    commits: Number(rows[0]?.commits ?? 0),
    redisClients: String(await redis.client('LIST'))
      .trim()
      .split('\n').length,
    redisCpu: cpuOf('used_cpu_sys') + cpuOf('used_cpu_user'),
  };
}

interface Run {
  schedule: string;
  scheduled: number;
  started: number;
}

/** First attempts due in [from, to): a run due just before `to` has had a second to start. */
async function runsBetween(db: pg.Pool, from: number, to: number): Promise<Run[]> {
  const { rows } = await db.query<{ schedule: string; scheduled: Date; started: Date }>(
    `select schedule, scheduled_at as scheduled, started_at as started from job_runs
      where attempt = 1 and scheduled_at >= $1 and scheduled_at < $2`,
    [new Date(from), new Date(to)],
  );
  return rows.map((r) => ({
    schedule: r.schedule,
    scheduled: r.scheduled.getTime(),
    started: r.started.getTime(),
  }));
}

/**
 * The slots of [from, to) that got no run: on each schedule's grid (anchored at one of its runs'
 * due time), and every slot of a schedule that ran not at all.
 */
function missedSlots(
  runs: Run[],
  { size, every }: { size: number; every: number },
  from: number,
  to: number,
): number {
  const anchors = new Map(runs.map((run) => [run.schedule, run.scheduled]));
  let expected = (size - anchors.size) * Math.floor((to - from) / every);
  for (const anchor of anchors.values())
    expected += Math.ceil((to - anchor) / every) - Math.ceil((from - anchor) / every);
  return expected - runs.length;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

// Last: the helpers above are defined by the time it runs.
const [mode = '', ...numbers] = process.argv.slice(2);
const [size, every, measureMs] = numbers.map(Number);
if (!size || !every || !measureMs || !process.send) throw new Error('run by bench/schedules.bench.ts');
const figures = await benchSize(mode, size, every, measureMs);
process.send(figures ?? 'ready', () => process.exit(0));
