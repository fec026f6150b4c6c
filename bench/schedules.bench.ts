import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadConfig } from '../src/config/config';
import { createPool } from '../src/db/pool';
import { parseDuration } from '../src/schedules/duration';
import { startScratchRedis } from '../test/scratch-redis';
import { benchOption, fmt, megabytes } from './format';
import { bundledChild } from './job-child';
import type { Figures } from './schedules-child';

/**
 * Thousands of schedules: N `sleep` schedules (1 ms runs) on one scheduler process with its workers,
 * on a Redis of its own at hz 10 and a PostgreSQL database of its own (so that its commit count is
 * this process's). A first process sets the schedules up (every new `every` schedule runs at once
 * when made); the one measured is then started on them, as a scheduler is restarted in operation,
 * and after a few seconds it measures: runs and the slots that got none, start delay (start − due)
 * p50/p99, the process's CPU (% of one core), PostgreSQL commits/s, Redis connections and the
 * server's CPU, the process's RSS at the end (with its RSS at start, node and the modules, and its
 * live heap after a full collection). Each process is bundled with esbuild and started like
 * bin/tickflow, so its RSS is a built scheduler's, not tsx's.
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
      'PostgreSQL commits/s   Redis conns   Redis CPU   RSS (at start, live heap after a full GC)',
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

/**
 * One size: its world (a redis-server of its own at hz 10, a PostgreSQL database of its own, so
 * that its commit count is the scheduler's alone), a child that sets the schedules up, then a
 * child that is the scheduler measured, started on schedules that exist.
 */
async function benchSize(size: number, every: number, measureMs: number): Promise<Figures> {
  const id = `bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-bench-'));
  const file = path.join(dir, 'schedules.yaml');
  const redis = await startScratchRedis({ hz: 10 });
  const base = loadConfig(process.env);
  const admin = createPool(base, 1);
  await admin.query(`create database ${pg.escapeIdentifier(id)}`);
  const databaseUrl = new URL(base.databaseUrl);
  databaseUrl.pathname = `/${id}`;
  const env = {
    ...process.env,
    QUEUE_PREFIX: id,
    DATABASE_URL: databaseUrl.toString(),
    SCHEDULES_FILE: file,
    REDIS_URL: redis.url,
  };
  try {
    await inChild('setup', [size, every, measureMs], env);
    return (await inChild('measure', [size, every, measureMs], env)) as Figures;
  } finally {
    await redis.stop();
    await admin.query(`drop database if exists ${pg.escapeIdentifier(id)} with (force)`);
    await admin.end();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** A child run as built JavaScript (not under tsx), as a built scheduler runs; its answer over IPC. */
async function inChild(mode: string, numbers: number[], env: NodeJS.ProcessEnv): Promise<unknown> {
  const child = fork(await bundledChild('schedules-child'), [mode, ...numbers.map(String)], {
    env,
    // V8's young generation as bin/tickflow sizes it.
    execArgv: [
      '--expose-gc',
      '--max-semi-space-size=16',
      ...(process.env.BENCH_NODE_FLAGS?.split(' ') ?? []),
    ],
  });
  return new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the schedules bench's ${mode} child exited (${code})`)));
  });
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
    `${megabytes(f.rss)} (${megabytes(f.rssAtStart)} at start, ${megabytes(f.liveHeap)} live heap)`.padStart(
      40,
    ),
  ].join(' ');
}
