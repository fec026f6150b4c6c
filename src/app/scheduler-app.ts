import type { Config } from '../config/config';
import type { Control } from '../control/control';
import { closeDroppedRuns } from '../control/sweep';
import { consumerWatermarks } from '../control/watermarks';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { ScheduleStates } from '../db/schedule-states';
import type { Logger } from '../log/logger';
import { Metrics } from '../metrics/metrics';
import { assertRedisReachable, bullConnection, QueueSet } from '../queues/queues';
import type { JobRegistry } from '../runtime/job-registry';
import { Scheduler } from '../scheduler/scheduler';
import { ScheduleSource } from '../schedules/source';
import { startTracing } from '../telemetry/tracing';
import { assertSafeToServe } from '../web/auth';
import { BOARD_PATH, createBoard } from '../web/board';
import { mountSchedulerUi } from '../web/scheduler-ui';
import { startWebServer, type WebServer } from '../web/server';
import { startWorkers, type Workers, type WorkerTuning } from '../worker/process';
import { Closers } from './closers';
import { FileTopics } from './file-topics';
import { defaultJobs } from './jobs';
import { readinessOf } from './readiness';

/** How often queued manual runs whose job left Redis are closed in the history. */
const SWEEP_EVERY_MS = 5_000;

export interface SchedulerAppOptions {
  /** Run workers in this process too (the default for `npm run scheduler`). */
  workers: boolean;
  /** Serve the web UI, the API and /metrics (the default). */
  web: boolean;
  workerTuning?: WorkerTuning;
  /** How often the scheduler re-checks Redis against the file and PostgreSQL. */
  checkEveryMs?: number;
  /** The job types schedules may name and workers run: tickflow's own (jobs/index.ts) by default. */
  jobs?: JobRegistry;
}

export interface SchedulerApp {
  /** Emits `reconciled` after each pass; `workers.pool` emits `run:started`/`run:finished`. */
  scheduler: Scheduler;
  source: ScheduleSource;
  /** The control plane of this process: what its API and grid call. */
  control: Control;
  workers?: Workers;
  web?: WebServer;
  /** Stops in the reverse order of the start: web, file watch, scheduler, workers, connections. */
  stop(): Promise<void>;
}

/**
 * `tickflow scheduler` once services are up: migrations, the schedules file and its topics, the
 * reconciling Scheduler, the file watch, the workers and the web UI. A broken schedules file at
 * start throws: there is no previous version to keep running.
 */
export async function startSchedulerApp(
  config: Config,
  log: Logger,
  options: SchedulerAppOptions,
): Promise<SchedulerApp> {
  // Before anything starts: an unsafe address is a configuration error, not a half-started process.
  if (options.web) assertSafeToServe(config.web);
  const closers = new Closers();
  return closers.starting(async () => {
    // Runs are traced where they run: a scheduler without workers makes no spans. Stopped last, so
    // the spans of the runs the workers finish on the way out are exported.
    if (options.workers)
      closers.add(
        await startTracing({ endpoint: config.tracesEndpoint, service: 'tickflow-scheduler', log }),
      );
    await migrate(config, log);
    await assertRedisReachable(config);
    const jobs = options.jobs ?? defaultJobs;
    const source = new ScheduleSource(config.schedulesFile, jobs, log);
    const file = await source.load();
    const topics = new FileTopics(config, log);
    closers.add(() => topics.close());
    await topics.follow(source, file);

    const db = createPool(config, 4);
    closers.add(() => db.end());
    const connection = bullConnection(config);
    closers.add(() => connection.disconnect());
    const queues = new QueueSet(connection, config.queuePrefix);
    closers.add(() => queues.close());

    const states = new ScheduleStates(db);
    const scheduler = new Scheduler({
      source,
      queues,
      states,
      db,
      jobs,
      log,
      ...(options.checkEveryMs ? { checkEveryMs: options.checkEveryMs } : {}),
    });
    await scheduler.start();
    closers.add(() => scheduler.stop());
    // Workers after the first reconcile: a queue PostgreSQL says is paused is paused before any run.
    const watermarks = () => consumerWatermarks(db, source.current?.schedules ?? [], jobs);
    const metrics = options.web ? new Metrics(() => scheduler.queues(), watermarks) : undefined;
    const workers = options.workers
      ? await startWorkers(source, jobs, connection, config, log, {
          ...(metrics
            ? {
                onFinished: (...run) => metrics.recordRun(...run),
                onSlotsSkipped: (...skipped) => metrics.recordSkipped(...skipped),
              }
            : {}),
          ...options.workerTuning,
        })
      : undefined;
    if (workers) closers.add(() => workers.stop());
    source.watch();
    closers.add(() => source.close());

    const control: Control = {
      db,
      queues,
      states,
      jobs,
      file: () => ({
        path: source.file,
        current: source.current,
        ...(source.lastError ? { error: source.lastError } : {}),
      }),
      boardPath: BOARD_PATH,
      readOnly: config.web.readOnly,
      manualRunsQueuedMax: config.manualRunsQueuedMax,
    };
    const web = metrics ? await serveUi(config, log, { control, scheduler, metrics, closers }) : undefined;
    const sweep = setInterval(() => {
      closeDroppedRuns(control).catch((error) => log.warn({ err: error }, 'could not close dropped runs'));
    }, SWEEP_EVERY_MS);
    closers.add(() => clearInterval(sweep));
    log.info(
      { file: source.file, schedules: file.schedules.length, workers: options.workers },
      'scheduler started',
    );
    return {
      scheduler,
      source,
      control,
      ...(workers ? { workers } : {}),
      ...(web ? { web } : {}),
      stop: () => closers.closeAll(),
    };
  });
}

async function serveUi(
  config: Config,
  log: Logger,
  parts: { control: Control; scheduler: Scheduler; metrics: Metrics; closers: Closers },
): Promise<WebServer> {
  const { control, scheduler, metrics, closers } = parts;
  const board = createBoard(control);
  board.setQueues(scheduler.queues());
  scheduler.on('queues', board.setQueues);
  closers.add(() => {
    scheduler.off('queues', board.setQueues);
  });
  const readiness = readinessOf(config);
  closers.add(() => readiness.close());
  const web = await startWebServer(config.web, log, {
    metrics,
    ready: readiness.check,
    mount: mountSchedulerUi(control, board, log),
    exposure: { what: 'the web UI' },
  }).catch((error: Error) => {
    throw new Error(
      `cannot serve the web UI on ${config.web.host}:${config.web.port} (WEB_HOST/WEB_PORT): ${error.message}`,
    );
  });
  closers.add(() => web.close());
  return web;
}
