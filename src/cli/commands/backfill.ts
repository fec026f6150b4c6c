import { type Command, Option } from 'commander';
import type { BackfillView, Reprocess } from '../../control/views';
import { action } from '../action';
import { cliUser } from '../toggle-command';

/** views.ts's REPROCESS, without loading zod for `tickflow --help`. */
const REPROCESS = ['failed', 'missing', 'all'] as const satisfies readonly Reprocess[];

interface BackfillOptions {
  from?: string;
  to?: string;
  dryRun?: boolean;
  reprocess: Reprocess;
}

/**
 * `tickflow backfill <schedule> --from --to [--dry-run] [--reprocess failed|missing|all]`: one run
 * per window of the schedule's cadence in [from, to) (like `airflow dags backfill`), behind the
 * schedule's live runs; and `tickflow backfill cancel <schedule> <id>`. Each problem names its flag.
 */
export function registerBackfill(program: Command): void {
  const command = program
    .command('backfill')
    .description(
      "run a schedule's job once per window of its cadence in [--from, --to), oldest first, behind its live runs; `backfill cancel` drops the runs of one not started yet",
    )
    .argument('<schedule>', 'schedule name from the schedules file')
    // Not requiredOption: commander checks a parent's required options for `backfill cancel` too.
    .option('--from <time>', 'start of the range, ISO 8601 with a zone, e.g. 2024-03-01T10:00:00Z (required)')
    .option('--to <time>', 'end of the range (excluded), ISO 8601 with a zone (required)')
    .option('--dry-run', 'list the windows it would run (and those --reprocess skips); queue nothing')
    .addOption(
      new Option(
        '--reprocess <which>',
        'which windows get a run, by their runs in PostgreSQL: all; failed (latest run failed or cancelled); missing (no completed run)',
      )
        .choices(REPROCESS)
        .default('all'),
    )
    .action(
      action(async ({ config }, name: string, options: BackfillOptions) => {
        const [{ withControl }, { backfill, isoTime }, { InvalidInputError }, { defaultJobs }] =
          await Promise.all([
            import('../../control/control'),
            import('../../control/backfill'),
            import('../../control/errors'),
            import('../../app/jobs'),
          ]);
        const bound = (flag: 'from' | 'to') => {
          const text = options[flag];
          if (text === undefined) throw new Error(`--${flag} <time> is required (ISO 8601 with a zone)`);
          const parsed = isoTime.safeParse(text);
          if (parsed.success) return parsed.data;
          throw new Error(`--${flag} "${text}": ${parsed.error.issues[0]?.message}`);
        };
        const request = {
          from: bound('from'),
          to: bound('to'),
          by: cliUser(),
          dryRun: options.dryRun ?? false,
          reprocess: options.reprocess,
        };
        const done = await withControl(config, defaultJobs, (control) =>
          backfill(control, name, request),
        ).catch((error: unknown) => {
          if (!(error instanceof InvalidInputError)) throw error;
          throw new Error(error.issues.map((issue) => `--${issue.field}: ${issue.message}`).join('; '));
        });
        report(name, done);
        return 0;
      }),
    );

  command
    .command('cancel')
    .description(
      'cancel a backfill: its runs not started yet leave the queue (recorded as cancelled); started ones finish',
    )
    .argument('<schedule>', 'schedule name from the schedules file')
    .argument('<id>', 'the backfill id `tickflow backfill` printed')
    .action(
      action(async ({ config }, name: string, id: string) => {
        const [{ withControl }, { cancelBackfill }, { defaultJobs }] = await Promise.all([
          import('../../control/control'),
          import('../../control/cancel-backfill'),
          import('../../app/jobs'),
        ]);
        const done = await withControl(config, defaultJobs, (control) =>
          cancelBackfill(control, name, { id, by: cliUser() }),
        );
        console.log(
          `cancelled backfill ${id} of ${name}: dropped ${done.dropped} run(s) not started; ` +
            `${done.started} had started (${done.running} still running, left to finish)`,
        );
        return 0;
      }),
    );
}

function report(name: string, done: BackfillView): void {
  const span = (window: { from: string; to: string }) => `[${window.from}, ${window.to})`;
  const reprocess = done.reprocess === 'all' ? '' : ` (--reprocess ${done.reprocess})`;
  if (done.dryRun)
    console.log(`dry run: would queue ${done.runs.length} backfill run(s) of ${name}${reprocess}:`);
  else if (done.id) console.log(`queued ${done.runs.length} backfill run(s) of ${name}${reprocess}:`);
  else console.log(`queued nothing for ${name}: --reprocess ${done.reprocess} leaves no window to run`);
  for (const run of done.runs)
    console.log(`  ${run.runId ?? span(run.window)}${run.runId ? `  ${span(run.window)}` : ''}`);
  if (done.skipped.length) {
    console.log(`skipped ${done.skipped.length} window(s)${reprocess}:`);
    for (const skip of done.skipped)
      console.log(`  ${span(skip.window)}  latest run: ${skip.latest ?? 'none'}`);
  }
  if (done.id)
    console.log(`backfill ${done.id}: cancel with \`tickflow backfill cancel ${name} ${done.id}\``);
  if (done.waitsForResume && done.id)
    console.log(`note: ${name} is paused; the runs wait until it is resumed`);
}
