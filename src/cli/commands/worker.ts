import type { Command } from 'commander';
import { action } from '../action';
import { untilSignal } from '../until-signal';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description(
      'run workers only (scale out): one per schedule queue of the schedules file; /health, /ready, /metrics on WORKER_PORT',
    )
    .option('--no-web', 'do not serve /health, /ready and /metrics')
    .action(
      action(async ({ config, log }, options: { web: boolean }) => {
        const stopSignal = untilSignal(log); // before starting: a SIGTERM during start-up is still graceful
        const { startWorkerApp } = await import('../../app/worker-app');
        const app = await startWorkerApp(config, log, { web: options.web });
        await stopSignal;
        await app.stop();
        log.info('workers stopped');
        return 0;
      }),
    );
}
