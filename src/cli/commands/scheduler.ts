import type { Command } from 'commander';
import { action } from '../action';
import { untilSignal } from '../until-signal';

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the schedules from the schedules file (and, unless --no-workers, their workers)')
    .option('--no-workers', 'only schedule; run the jobs with `tickflow worker` processes')
    .option('--no-web', 'do not serve the web UI (grid, API, Bull Board, /health, /metrics)')
    .action(
      action(async ({ config, log }, options: { workers: boolean; web: boolean }) => {
        // Listen first: a SIGTERM while starting up must still end in a graceful stop.
        const stopSignal = untilSignal(log);
        const [{ servicesUp }, { startSchedulerApp }] = await Promise.all([
          import('../../services/services'),
          import('../../app/scheduler-app'),
        ]);
        // On a developer's machine, start whatever service is missing (the dev launcher lives in the CLI only).
        await servicesUp(config, log);
        const app = await startSchedulerApp(config, log, { workers: options.workers, web: options.web });
        await stopSignal;
        await app.stop();
        log.info('scheduler stopped');
        return 0;
      }),
    );
}
