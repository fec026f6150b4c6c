import type { Command } from 'commander';
import { action } from '../action';
import { bulkFromCli, type RunFilterOptions, withRunFilter } from '../run-filter';
import { cliUser } from '../toggle-command';

/**
 * `tickflow rerun <schedule> <runId> [--current-params]`: a new run of a finished run's window
 * (Airflow's clear), with its params or the file's; without a run id, every run a filter takes.
 */
export function registerRerun(program: Command): void {
  withRunFilter(
    program
      .command('rerun')
      .description(
        "re-run a finished run: a new run of the same window with the same params (or the file's), linked to it; works for runs Redis no longer holds; without a run id, the runs a filter takes (counted first)",
      )
      .argument('<schedule>', 'schedule name')
      .argument('[runId]', 'the run (see `tickflow runs <schedule>`)')
      .option('--current-params', "run with the schedules file's params (and job) as they are now"),
    'default: failed',
  ).action(
    action(
      async (
        { config },
        name: string,
        runId: string | undefined,
        options: RunFilterOptions & { currentParams?: boolean },
      ) => {
        const [{ withControl }, { rerunRun }, { defaultJobs }] = await Promise.all([
          import('../../control/control'),
          import('../../control/rerun'),
          import('../../app/jobs'),
        ]);
        return withControl(config, defaultJobs, async (control) => {
          if (!runId) return bulkFromCli(control, name, 'rerun', options);
          const run = await rerunRun(control, name, runId, {
            by: cliUser(),
            ...(options.currentParams ? { currentParams: true } : {}),
          });
          console.log(
            `re-running ${runId} of ${name} as run ${run.runId}, window [${run.window.from}, ${run.window.to}), ` +
              `with ${JSON.stringify(run.params)}`,
          );
          if (run.waitsForResume) console.log(`note: ${name} is paused; the run waits until it is resumed`);
          return 0;
        });
      },
    ),
  );
}
