import { type Command, InvalidArgumentError } from 'commander';
import { createPool } from '../../db/pool';
import { recentRuns } from '../../db/run-history';
import { action } from '../action';

export function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return parsed;
}

const seconds = (from: Date, to: Date | null) =>
  to ? `${((to.getTime() - from.getTime()) / 1000).toFixed(2)}s` : 'running';

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('recent runs of a schedule from the durable history (job_runs), newest first')
    .argument('<schedule>', 'schedule name')
    .option('-n, --limit <count>', 'how many attempts to show', positiveInt, 20)
    .option('--json', 'print JSON lines instead of a table')
    .action(
      action(async ({ config }, schedule: string, options: { limit: number; json?: boolean }) => {
        const db = createPool(config, 1);
        try {
          const runs = await recentRuns(db, [schedule], options.limit);
          if (runs.length === 0) console.log(`no runs recorded for '${schedule}'`);
          for (const run of runs) {
            if (options.json) console.log(JSON.stringify(run));
            else {
              const outcome = run.error ?? JSON.stringify(run.result ?? null);
              console.log(
                `${run.startedAt.toISOString()}  ${run.jobId.padEnd(24)} #${run.attempt}  ${run.state.padEnd(9)} ${seconds(run.startedAt, run.finishedAt).padStart(8)}  ${outcome}`,
              );
            }
          }
          return 0;
        } finally {
          await db.end();
        }
      }),
    );
}
