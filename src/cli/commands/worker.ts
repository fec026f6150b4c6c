import type { Command } from 'commander';
import { startWorkerProcess } from '../../worker/process';
import { action } from '../action';
import { untilSignal } from '../until-signal';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run workers only (scale out): one per schedule queue of the schedules file')
    .action(
      action(async ({ config, log }) => {
        const stopSignal = untilSignal(log); // before starting: a SIGTERM during start-up is still graceful
        const running = await startWorkerProcess(config, log);
        await stopSignal;
        await running.stop();
        log.info('workers stopped');
        return 0;
      }),
    );
}
