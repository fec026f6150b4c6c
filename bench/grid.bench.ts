import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { jobs } from '../jobs/index';
import { loadConfig } from '../src/config/config';
import type { Control } from '../src/control/control';
import { migrate } from '../src/db/migrate';
import { createPool } from '../src/db/pool';
import { ScheduleStates } from '../src/db/schedule-states';
import { createLogger } from '../src/log/logger';
import { Metrics } from '../src/metrics/metrics';
import { bullConnection, QueueSet } from '../src/queues/queues';
import { loadSchedulesFile } from '../src/schedules/load';
import { createBoard } from '../src/web/board';
import { mountSchedulerUi } from '../src/web/scheduler-ui';
import { startWebServer } from '../src/web/server';
import { deletePrefix } from '../test/scheduler/redis-keys';

/**
 * The grid and the run list at scale: RUNS rows in `runs` and as many in `job_runs` (~8 days of
 * the default schedules), then the API's answers timed over HTTP. The reference is the grid query
 * before the control plane (a row_number() over each schedule's whole history), run in the same
 * bench on the same rows.
 */
const RUNS = Number(process.env.BENCH_GRID_RUNS ?? 1_000_000);
const REQUESTS = 20;

export default async function gridBench(): Promise<void> {
  const id = `bench_${Date.now().toString(36)}`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-bench-'));
  const file = path.join(dir, 'schedules.yaml');
  fs.writeFileSync(file, fs.readFileSync('schedules.yaml'));
  const config = loadConfig({
    ...process.env,
    QUEUE_PREFIX: id,
    DATABASE_SCHEMA: id,
    SCHEDULES_FILE: file,
    WEB_PORT: '0',
  });
  const log = createLogger('warn', id);
  await migrate(config, log);
  const db = createPool(config, 4);
  const connection = bullConnection(config);
  const queues = new QueueSet(connection, config.queuePrefix);
  try {
    const started = Date.now();
    await fill(db);
    console.log(
      `${RUNS.toLocaleString('en')} runs and attempts written in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const schedules = await loadSchedulesFile(file, jobs);
    const control: Control = {
      db,
      queues,
      states: new ScheduleStates(db),
      jobs,
      file: () => ({ path: file, current: schedules }),
    };
    const board = createBoard(control);
    const web = await startWebServer(config.web, log, {
      metrics: new Metrics(() => []),
      ready: async () => ({}),
      mount: mountSchedulerUi(control, board, log),
      exposure: { what: 'the bench web UI' },
    });
    try {
      const time = (label: string, url: string) => timeRequests(label, `${web.url}${url}`);
      const before = await timeQuery(db, 'grid before (row_number over all runs, 30 per row)', OLD_GRID_SQL, [
        schedules.schedules.map((s) => s.name),
      ]);
      const grid5m = await time('grid, 5 min window', '/api/v1/schedules?window=5m');
      await time('grid, 1 h window (200 per row)', '/api/v1/schedules?window=1h');
      await time('grid, 24 h window, failed only', '/api/v1/schedules?window=24h&state=failed');
      await time('run list, page of 50', '/api/v1/schedules/consumer/runs?limit=50');
      await time('run list, failed only', '/api/v1/schedules/consumer/runs?state=failed&limit=50');
      await time('one run', '/api/v1/schedules/consumer/runs/repeat:consumer:10');
      console.log(
        `\n  grid (5 min, over HTTP) p50 is ${(grid5m / before).toFixed(3)}× the old grid query alone`,
      );
    } finally {
      await web.close();
    }
  } finally {
    await db.query(`drop schema if exists ${pg.escapeIdentifier(id)} cascade`);
    await db.end();
    await queues.close();
    await deletePrefix(connection, id);
    connection.disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The default schedules' mix: producer every 1 s, consumer every 2 s (2 % failed), a heartbeat. */
async function fill(db: pg.Pool): Promise<void> {
  const shape = `select (array['producer', 'producer', 'consumer', 'heartbeat'])[1 + i % 4] as schedule,
                        'repeat:' || (array['producer', 'producer', 'consumer', 'heartbeat'])[1 + i % 4] || ':' || i as id,
                        case when i % 50 = 0 then 'failed' else 'completed' end as state,
                        now() - (i * interval '700 milliseconds') as due
                   from generate_series(1, ${RUNS}) as i`;
  await db.query(`insert into runs (schedule, run_id, job_type, state, trigger, attempts, due_at, started_at, finished_at, result)
                  select schedule, id, 'sleep', state, 'schedule', 1, due, due, due + interval '40 ms', '{"consumed": 2000}'
                    from (${shape}) s`);
  await db.query(`insert into job_runs (schedule, job_id, attempt, job_type, state, started_at, finished_at, scheduled_at, result)
                  select schedule, id, 1, 'sleep', state, due, due + interval '40 ms', due, '{"consumed": 2000}'
                    from (${shape}) s`);
  await db.query('analyze runs; analyze job_runs');
}

const OLD_GRID_SQL = `select schedule, job_id, attempt, state, started_at, finished_at, result, error
  from (select *, row_number() over (partition by schedule order by started_at desc) as n
          from job_runs where schedule = any($1)) recent
 where n <= 30 order by schedule, started_at desc`;

async function timeQuery(db: pg.Pool, label: string, sql: string, params: unknown[]): Promise<number> {
  return measure(label, async () => {
    await db.query(sql, params);
  });
}

async function timeRequests(label: string, url: string): Promise<number> {
  return measure(label, async () => {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    await response.arrayBuffer();
  });
}

async function measure(label: string, once: () => Promise<void>): Promise<number> {
  await once(); // warm-up: caches and plans
  const ms: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const start = performance.now();
    await once();
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  const p50 = ms[Math.floor(ms.length / 2)] ?? Number.NaN;
  console.log(
    `  ${label.padEnd(52)} p50 ${p50.toFixed(1).padStart(7)} ms   max ${(ms.at(-1) ?? 0).toFixed(1).padStart(7)} ms`,
  );
  return p50;
}
