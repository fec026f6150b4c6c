import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startSchedulerApp } from '../src/app/scheduler-app';
import { loadConfig } from '../src/config/config';
import { createPool } from '../src/db/pool';
import { createLogger } from '../src/log/logger';
import { parseDuration } from '../src/schedules/duration';
import { startScratchRedis } from '../test/scratch-redis';
import { sleep } from '../test/support';
import { benchOption, fmt, megabytes } from './format';

/**
 * Thousands of schedules: N `sleep` schedules (1 ms runs) on one scheduler process with its workers,
 * on a Redis of its own at hz 10 and a PostgreSQL database of its own (so that its commit count is
 * this process's). After a warm-up of one cadence, it measures for a while: runs and the slots
 * that got none, start delay (start − due) p50/p99, the process's CPU (% of one core), PostgreSQL
 * commits/s, Redis connections and the server's CPU, the process's RSS.
 *
 * Options: --sizes=100,1000,5000 (the schedule counts), --every=5s (one cadence for every size;
 * else 5s up to 1,000 schedules, 60s above), --seconds=N (the measured time; else two cadences,
 * at least 30 s). Targets (issue 25): 1,000 every 5s: every run, p99 ≤ 20 ms, CPU ≤ 30 %;
 * 5,000 every 60s: every run, p99 ≤ 50 ms, ≤ 50 Redis connections, RSS ≤ 300 MB.
 */
const SIZES = (benchOption('sizes') ?? '100,1000,5000').split(',').map(Number);

export default async function schedulesBench(): Promise<void> {
  console.log(
    'schedules  cadence   runs (missed slots)   runs/s   start delay p50 / p99   process CPU   ' +
      'PostgreSQL commits/s   Redis conns   Redis CPU   RSS',
  );
  for (const size of SIZES) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(
        `--sizes: "${benchOption('sizes')}" is not a list of schedule counts; write e.g. 100,1000`,
      );
    const everyText = benchOption('every') ?? (size > 1_000 ? '60s' : '5s');
    const every = parseDuration(everyText);
    if (every === undefined)
      throw new Error(`--every: "${everyText}" is not a duration; write e.g. 5s or 1m`);
    const seconds = Number(benchOption('seconds') ?? Math.max(30, (2 * every) / 1000));
    console.log(formatRow(await benchSize(size, every, seconds * 1000)));
  }
}

interface Figures {
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
}

async function benchSize(size: number, every: number, measureMs: number): Promise<Figures> {
  const id = `bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-bench-'));
  const file = path.join(dir, 'schedules.yaml');
  fs.writeFileSync(file, schedulesYaml(size, every));
  const redis = await startScratchRedis({ hz: 10 });
  const base = loadConfig(process.env);
  const admin = createPool(base, 1);
  // A database of its own: pg_stat_database then counts this process's commits only.
  await admin.query(`create database ${pg.escapeIdentifier(id)}`);
  const databaseUrl = new URL(base.databaseUrl);
  databaseUrl.pathname = `/${id}`;
  const config = loadConfig({
    ...process.env,
    QUEUE_PREFIX: id,
    DATABASE_URL: databaseUrl.toString(),
    SCHEDULES_FILE: file,
    REDIS_URL: redis.url,
  });
  const db = createPool(config, 1);
  const probe = new Redis(redis.url);
  try {
    const app = await startSchedulerApp(config, createLogger('error', id), { workers: true, web: false });
    try {
      // Every schedule made and run once, before anything is counted.
      await sleep(every + 2_000);
      const before = await readings(db, probe, id);
      await sleep(measureMs);
      const after = await readings(db, probe, id);
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
      };
    } finally {
      await app.stop();
    }
  } finally {
    probe.disconnect();
    await db.end();
    await redis.stop();
    await admin.query(`drop database if exists ${pg.escapeIdentifier(id)} with (force)`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const schedulesYaml = (size: number, every: number) =>
  `schedules:\n${Array.from(
    { length: size },
    (_, i) => `  s${i}:\n    job: sleep\n    every: ${every}ms\n    params: { ms: 1 }\n    keep: 5\n`,
  ).join('')}`;

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
    redisClients: String(await redis.client('LIST')).trim().split('\n').length,
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

function formatRow(f: Figures): string {
  return [
    fmt(f.size).padStart(9),
    `${f.every / 1000}s`.padStart(8),
    `${fmt(f.runs)} (${fmt(f.missed)})`.padStart(20),
    fmt(f.runs / f.seconds, 1).padStart(8),
    `${f.p50} / ${f.p99} ms`.padStart(23),
    `${fmt(f.cpu, 1)} %`.padStart(13),
    fmt(f.commitsPerSecond, 1).padStart(22),
    fmt(f.redisClients).padStart(13),
    `${fmt(f.redisCpu, 1)} %`.padStart(11),
    megabytes(f.rss).padStart(8),
  ].join(' ');
}
