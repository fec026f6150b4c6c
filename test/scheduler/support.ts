import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { type SchedulerApp, type SchedulerAppOptions, startSchedulerApp } from '../../src/app/scheduler-app';
import { type Config, loadConfig } from '../../src/config/config';
import { listSchedules } from '../../src/control/schedules';
import type { ScheduleView } from '../../src/control/views';
import { createPool } from '../../src/db/pool';
import { bullConnection } from '../../src/queues/queues';
import type { Change } from '../../src/scheduler/reconcile';
import type { RunFinished, RunStarted } from '../../src/worker/run-events';
import { type EventWait, events, nextEvent } from '../events';
import { type TestEnv, testEnv, waitFor } from '../support';

export { sleep, waitFor } from '../support';

import { deletePrefix } from './redis-keys';

const root = path.resolve(import.meta.dirname, '../..');

export interface RunRow {
  schedule: string;
  job_id: string;
  attempt: number;
  state: 'active' | 'completed' | 'failed';
  error: string | null;
  scheduled_at: Date;
  started_at: Date;
  finished_at: Date | null;
  worker: string;
}

export interface Child {
  process: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

/** One isolated scheduler world: its own schedules file, queue prefix and schema; cleaned up after. */
export class SchedulerTest {
  readonly t: TestEnv;
  readonly file: string;
  readonly config: Config;
  readonly env: NodeJS.ProcessEnv;
  readonly db: pg.Pool;
  readonly redis: Redis;
  private readonly dir: string;
  private readonly running = new Set<SchedulerApp>();
  private readonly children = new Set<Child>();

  /** `env` overrides the isolation's environment, e.g. a REDIS_URL of the test's own. */
  constructor(label: string, env: NodeJS.ProcessEnv = {}) {
    this.t = testEnv(label);
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `tickflow-${label}-`));
    this.file = path.join(this.dir, 'schedules.yaml');
    // Port 0: each process serves its UI or health port on a free port, so parallel ones never collide.
    this.env = { ...this.t.env, SCHEDULES_FILE: this.file, WEB_PORT: '0', WORKER_PORT: '0', ...env };
    this.config = loadConfig(this.env);
    this.db = createPool(this.config, 2);
    this.redis = bullConnection(this.config);
  }

  /** Writes the file the way editors do (new file, then rename), so a watcher never sees half of it. */
  writeSchedules(yaml: string): void {
    const temporary = `${this.file}.tmp`;
    fs.writeFileSync(temporary, yaml);
    fs.renameSync(temporary, this.file);
  }

  /** The scheduler in this process: workers on, web UI off unless asked for. */
  async start(options: Partial<SchedulerAppOptions> = {}): Promise<SchedulerApp> {
    const running = await startSchedulerApp(this.config, this.t.log, {
      workers: true,
      web: false,
      checkEveryMs: 500,
      ...options,
    });
    this.running.add(running);
    return running;
  }

  /** The schedules as the control plane reports them (the API's and `tickflow list`'s view). */
  async schedules(running: SchedulerApp): Promise<ScheduleView[]> {
    return (await listSchedules(running.control)).schedules;
  }

  async stop(running: SchedulerApp): Promise<void> {
    this.running.delete(running);
    await running.stop();
  }

  /** Runs the real CLI as a long-lived child (`scheduler`, `worker`) or a script through tsx. */
  /** Starts `count` CLI processes (info logs) and waits until each has logged `readyLine`. */
  async spawnReady(count: number, args: string[], readyLine: string): Promise<Child[]> {
    const children = Array.from({ length: count }, () => this.spawn(args, { env: { LOG_LEVEL: 'info' } }));
    await waitFor(
      async () => children.every((child) => child.output().includes(readyLine)),
      `${count} × tickflow ${args.join(' ')}`,
      30_000,
    );
    return children;
  }

  spawn(args: string[], options: { script?: string; env?: NodeJS.ProcessEnv } = {}): Child {
    const command = options.script
      ? [process.execPath, ['--import', 'tsx', path.join(root, options.script), ...args]]
      : [path.join(root, 'bin/tickflow'), args];
    // Its own process group: cleanup kills whatever the process may have started too.
    const child = spawn(command[0] as string, command[1] as string[], {
      env: { ...this.env, ...options.env },
      cwd: root,
      detached: true,
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    const handle: Child = {
      process: child,
      exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
      output: () => output,
    };
    this.children.add(handle);
    void handle.exited.then(() => this.children.delete(handle));
    return handle;
  }

  async runs(schedule?: string): Promise<RunRow[]> {
    const { rows } = await this.db.query<RunRow>(
      `select schedule, job_id, attempt, state, error, scheduled_at, started_at, finished_at, worker
       from job_runs where ($1::text is null or schedule = $1) order by scheduled_at, attempt`,
      [schedule ?? null],
    );
    return rows;
  }

  async cleanup(): Promise<void> {
    for (const child of this.children) killGroup(child.process);
    await Promise.all([...this.running].map((running) => running.stop().catch(() => undefined)));
    await deletePrefix(this.redis, this.config.queuePrefix);
    this.redis.disconnect();
    await this.db.end();
    await this.t.cleanup();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Waits for `count` attempts of `schedule` that `accepts` takes to start in `app`'s workers,
 * counted from this call on: each one's start is recorded (in job_runs) when its event comes.
 */
export function startedRuns(
  app: SchedulerApp,
  schedule: string,
  count: number,
  accepts: (run: RunStarted) => boolean = () => true,
  options: EventWait = {},
): Promise<RunStarted[]> {
  return events(poolOf(app), 'run:started', count, (run) => run.schedule === schedule && accepts(run), {
    what: `${count} started run(s) of ${schedule}`,
    ...options,
  });
}

/** As startedRuns, for attempts that finished: each one's end is recorded when its event comes. */
export function finishedRuns(
  app: SchedulerApp,
  schedule: string,
  count: number,
  accepts: (run: RunFinished) => boolean = () => true,
  options: EventWait = {},
): Promise<RunFinished[]> {
  return events(poolOf(app), 'run:finished', count, (run) => run.schedule === schedule && accepts(run), {
    what: `${count} finished run(s) of ${schedule}`,
    ...options,
  });
}

/** Runs due after `time`. */
export const dueAfter =
  (time: number) =>
  (run: RunStarted): boolean =>
    (run.scheduledAt?.getTime() ?? 0) > time;

function poolOf(app: SchedulerApp) {
  if (!app.workers) throw new Error('waiting for runs needs a scheduler app that runs workers');
  return app.workers.pool;
}

/** Waits for the next reconcile pass of `app` that made a `kind` change to `schedule`. */
export function reconciled(
  app: SchedulerApp,
  schedule: string,
  kind: Change['kind'],
  options: EventWait = {},
): Promise<Change[]> {
  return nextEvent(
    app.scheduler,
    'reconciled',
    (changes) => changes.some((c) => c.schedule === schedule && c.kind === kind),
    { what: `a reconcile pass with ${schedule} ${kind}`, ...options },
  );
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
