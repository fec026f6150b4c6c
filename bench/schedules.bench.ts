import { fork } from 'node:child_process';
import { parseDuration } from '../src/schedules/duration';
import { benchOption, fmt, megabytes } from './format';
import { bundledChild } from './job-child';
import type { Figures } from './schedules-child';

/**
 * Thousands of schedules: N `sleep` schedules (1 ms runs) on one scheduler process with its workers,
 * on a Redis of its own at hz 10 and a PostgreSQL database of its own (so that its commit count is
 * this process's). After a warm-up of one cadence, it measures for a while: runs and the slots
 * that got none, start delay (start − due) p50/p99, the process's CPU (% of one core), PostgreSQL
 * commits/s, Redis connections and the server's CPU, the process's RSS (at the end, its live heap
 * after a full collection, and its RSS before the
 * scheduler started: node and the modules). Each size runs in a process of its own, bundled with
 * esbuild like the CLI (bench/job-child.ts), so its RSS is a built scheduler's, not tsx's.
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
    console.log(formatRow(await inChild(size, every, seconds * 1000)));
  }
}

/** One size in a process of its own, run as built JavaScript (not under tsx), as a built scheduler runs. */
async function inChild(size: number, every: number, measureMs: number): Promise<Figures> {
  const child = fork(await bundledChild('schedules-child'), [size, every, measureMs].map(String), {
    execArgv: ['--expose-gc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (figures) => resolve(figures as Figures));
    child.once('exit', (code) =>
      reject(new Error(`the ${size}-schedule bench exited (${code}) without figures`)),
    );
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
