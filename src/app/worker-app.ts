import type { Config } from '../config/config';
import { migrate } from '../db/migrate';
import type { Logger } from '../log/logger';
import { Metrics } from '../metrics/metrics';
import { assertRedisReachable, bullConnection } from '../queues/queues';
import type { JobRegistry } from '../runtime/job-registry';
import { ScheduleSource } from '../schedules/source';
import { startTracing } from '../telemetry/tracing';
import { assertSafeToServe } from '../web/auth';
import { startWebServer, type WebServer } from '../web/server';
import { startWorkers, type Workers, type WorkerTuning } from '../worker/process';
import { Closers } from './closers';
import { defaultJobs } from './jobs';
import { readinessOf } from './readiness';

export interface WorkerApp {
  workers: Workers;
  web?: WebServer;
  stop(): Promise<void>;
}

/**
 * `tickflow worker`: workers alone, to scale out, following the schedules file; with its own
 * /health, /ready and /metrics on WORKER_PORT so that each worker process can be watched.
 */
export async function startWorkerApp(
  config: Config,
  log: Logger,
  options: {
    web: boolean;
    tuning?: WorkerTuning;
    /** The job types the workers run: tickflow's own (jobs/index.ts) by default. */
    jobs?: JobRegistry;
  },
): Promise<WorkerApp> {
  const web = { ...config.web, port: config.workerPort };
  const exposure = { what: `the worker's /metrics (WORKER_PORT; or --no-web)`, risk: 'read its metrics' };
  if (options.web) assertSafeToServe(web, exposure.what, exposure.risk);
  const closers = new Closers();
  return closers.starting(async () => {
    // First started, last stopped: the spans of the runs the workers finish on the way out are exported.
    closers.add(await startTracing({ endpoint: config.tracesEndpoint, service: 'tickflow-worker', log }));
    await migrate(config, log);
    await assertRedisReachable(config);
    const jobs = options.jobs ?? defaultJobs;
    const source = new ScheduleSource(config.schedulesFile, jobs, log);
    await source.load();
    source.watch();
    closers.add(() => source.close());
    const connection = bullConnection(config);
    closers.add(() => connection.disconnect());
    const metrics = options.web ? new Metrics(() => []) : undefined;
    const workers = await startWorkers(source, jobs, connection, config, log, {
      ...(metrics
        ? {
            onFinished: (...run) => metrics.recordRun(...run),
            onSlotsSkipped: (...skipped) => metrics.recordSkipped(...skipped),
          }
        : {}),
      ...options.tuning,
    });
    closers.add(() => workers.stop());
    let server: WebServer | undefined;
    if (metrics) {
      // Connections of its own for /ready: not the runs' pool nor the workers' Redis connection.
      const readiness = readinessOf(config);
      closers.add(() => readiness.close());
      server = await startWebServer(web, log, {
        metrics,
        ready: readiness.check,
        exposure,
      });
      closers.add(() => server?.close());
    }
    log.info({ schedules: source.current.schedules.length, health: server?.url }, 'workers started');
    return { workers, ...(server ? { web: server } : {}), stop: () => closers.closeAll() };
  });
}
