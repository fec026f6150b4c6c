import type { Command } from 'commander';
import { Metrics } from '../../metrics/metrics';
import { type SchedulerProcess, startSchedulerProcess } from '../../scheduler/process';
import { servicesUp } from '../../services/services';
import { serveSchedulerUi } from '../../web/scheduler-ui';
import { action } from '../action';
import { untilSignal } from '../until-signal';

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the schedules from the schedules file (and, unless --no-workers, their workers)')
    .option('--no-workers', 'only schedule; run the jobs with `tickflow worker` processes')
    .option('--no-web', 'do not serve the web UI (Bull Board, schedules grid, /health, /metrics)')
    .action(
      action(async ({ config, log }, options: { workers: boolean; web: boolean }) => {
        // Listen first: a SIGTERM while starting up must still end in a graceful stop.
        const stopSignal = untilSignal(log);
        await servicesUp(config, log);
        let running: SchedulerProcess | undefined;
        // Metrics exist to be scraped from the web UI: without it, nothing records them.
        const metrics = options.web ? new Metrics(() => running?.scheduler.queues() ?? []) : undefined;
        running = await startSchedulerProcess(config, log, {
          workers: options.workers,
          workerTuning: metrics ? { onFinished: (...run) => metrics.recordRun(...run) } : {},
        });
        const ui = metrics
          ? await serveSchedulerUi(config, log, running, metrics).catch(async (error: Error) => {
              await running?.stop();
              throw new Error(
                `cannot serve the web UI on ${config.web.host}:${config.web.port} (WEB_PORT): ${error.message}`,
              );
            })
          : undefined;
        await stopSignal;
        await ui?.close();
        await running.stop();
        log.info('scheduler stopped');
        return 0;
      }),
    );
}
