import type { Command } from 'commander';
import type { CancelledRun } from '../../control/views';
import { action } from '../action';
import { bulkFromCli, type RunFilterOptions, withRunFilter } from '../run-filter';
import { cliUser } from '../toggle-command';

const HOW: Record<CancelledRun['outcome'], string> = {
  removed: 'it had not started and left the queue',
  aborted: 'it was running: its worker aborted it',
  recorded: 'no queue held it any more',
  requested: 'a worker holds it and aborts it as soon as it sees the request (within a second)',
};

/**
 * `tickflow cancel <schedule> <runId>`: stops a run that waits or runs, on whichever worker holds it
 * (recorded cancelled, not retried); without a run id, every run a filter takes, counted first.
 */
export function registerCancel(program: Command): void {
  withRunFilter(
    program
      .command('cancel')
      .description(
        'cancel a run that waits or runs, on whichever worker holds it: it ends cancelled and is not retried; without a run id, the runs a filter takes (counted first)',
      )
      .argument('<schedule>', 'schedule name')
      .argument('[runId]', 'the run (see `tickflow runs <schedule>`)'),
    'default: waiting, queued, active, retrying',
  ).action(
    action(async ({ config }, name: string, runId: string | undefined, options: RunFilterOptions) => {
      const [{ withControl }, { cancelRun }, { defaultJobs }] = await Promise.all([
        import('../../control/control'),
        import('../../control/cancel-run'),
        import('../../app/jobs'),
      ]);
      return withControl(config, defaultJobs, async (control) => {
        if (!runId) return bulkFromCli(control, name, 'cancel', options);
        const done = await cancelRun(control, name, runId, { by: cliUser() });
        const verb = done.outcome === 'requested' ? 'asked to cancel' : 'cancelled';
        console.log(`${verb} run ${runId} of ${name} (was ${done.was}): ${HOW[done.outcome]}`);
        return 0;
      });
    }),
  );
}
