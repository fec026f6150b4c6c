import type { Command } from 'commander';
import { action } from '../action';
import { cliUser } from '../toggle-command';

/**
 * `tickflow backfill <schedule> --from --to`: one run per window of the schedule's cadence in
 * [from, to) (like `airflow dags backfill`). Each problem names its flag.
 */
export function registerBackfill(program: Command): void {
  program
    .command('backfill')
    .description("run a schedule's job once per window of its cadence in [--from, --to), oldest first")
    .argument('<schedule>', 'schedule name from the schedules file')
    .requiredOption('--from <time>', 'start of the range, ISO 8601 with a zone, e.g. 2024-03-01T10:00:00Z')
    .requiredOption('--to <time>', 'end of the range (excluded), ISO 8601 with a zone')
    .action(
      action(async ({ config }, name: string, options: { from: string; to: string }) => {
        const [{ withControl }, { backfill, isoTime }, { InvalidInputError }, { defaultJobs }] =
          await Promise.all([
            import('../../control/control'),
            import('../../control/backfill'),
            import('../../control/errors'),
            import('../../app/jobs'),
          ]);
        const bound = (flag: 'from' | 'to') => {
          const parsed = isoTime.safeParse(options[flag]);
          if (parsed.success) return parsed.data;
          throw new Error(`--${flag} "${options[flag]}": ${parsed.error.issues[0]?.message}`);
        };
        const request = { from: bound('from'), to: bound('to'), by: cliUser() };
        const done = await withControl(config, defaultJobs, (control) =>
          backfill(control, name, request),
        ).catch((error: unknown) => {
          if (!(error instanceof InvalidInputError)) throw error;
          throw new Error(error.issues.map((issue) => `--${issue.field}: ${issue.message}`).join('; '));
        });
        console.log(`queued ${done.runs.length} backfill run(s) of ${name}:`);
        for (const run of done.runs) console.log(`  ${run.runId}  [${run.window.from}, ${run.window.to})`);
        if (done.waitsForResume) console.log(`note: ${name} is paused; the runs wait until it is resumed`);
        return 0;
      }),
    );
}
