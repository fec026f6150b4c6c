import type { Command } from 'commander';
import { startSchedulerProcess } from '../../scheduler/process';
import { servicesUp } from '../../services/services';
import { action } from '../action';
import { untilSignal } from '../until-signal';

export function registerScheduler(program: Command): void {
  program
    .command('scheduler')
    .description('run the schedules from the schedules file (and, unless --no-workers, their workers)')
    .option('--no-workers', 'only schedule; run the jobs with `tickflow worker` processes')
    .action(
      action(async ({ config, log }, options: { workers: boolean }) => {
        await servicesUp(config, log);
        const running = await startSchedulerProcess(config, log, { workers: options.workers });
        await untilSignal(log);
        await running.stop();
        log.info('scheduler stopped');
        return 0;
      }),
    );
}
