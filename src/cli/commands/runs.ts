import { type Command, InvalidArgumentError } from 'commander';
import type { RunSummary } from '../../control/views';
import { RUN_STATES, type RunState } from '../../db/run-states';
import { action } from '../action';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number ≥ 1');
  return parsed;
}

function runStates(value: string): RunState[] {
  const states = value.split(',');
  const wrong = states.filter((state) => !(RUN_STATES as readonly string[]).includes(state));
  if (wrong.length)
    throw new InvalidArgumentError(`expected states from ${RUN_STATES.join(', ')} (got ${wrong.join(', ')})`);
  return states as RunState[];
}

const seconds = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(2)}s`);

/** `backfill [from, to)`: what a run covers, named by how it came (a scheduled one's trigger goes unsaid). */
function coverage(run: RunSummary): string {
  const how = run.trigger === 'schedule' ? '' : `${run.trigger} `;
  return run.window ? `${how}[${run.window.from}, ${run.window.to})` : how.trimEnd();
}

/** What people did to the run: re-run of, marked, noted (run-actions). */
function actions(run: RunSummary): string[] {
  return [
    run.rerunOf ? `re-runs ${run.rerunOf}` : '',
    run.marked ? `marked ${run.state} by ${run.marked.by} (was ${run.marked.from})` : '',
    run.note ? `note by ${run.note.by}: ${JSON.stringify(run.note.text)}` : '',
  ];
}

function line(run: RunSummary): string {
  const outcome = run.error ?? (run.waitingFor ? `waiting for ${run.waitingFor}` : '');
  const attempts = run.attempts > 1 ? `${run.attempts} attempts` : '';
  return [
    run.dueAt,
    run.runId.padEnd(30),
    run.state.padEnd(9),
    seconds(run.durationMs).padStart(8),
    coverage(run),
    attempts,
    outcome,
    ...actions(run).filter(Boolean),
  ]
    .join('  ')
    .trimEnd();
}

export function registerRuns(program: Command): void {
  program
    .command('runs')
    .description('runs of a schedule from the durable history, newest first; with a run id, that run in full')
    .argument('<schedule>', 'schedule name')
    .argument('[runId]', 'one run: params, result, error, attempts and log lines')
    .option('-n, --limit <count>', 'how many runs to show', positiveInt, 20)
    .option(
      '-s, --state <states>',
      `only runs in these states (comma-separated: ${RUN_STATES.join(', ')})`,
      runStates,
    )
    .option('--json', 'print JSON (as the API returns it)')
    .action(
      action(
        async (
          { config },
          schedule: string,
          runId: string | undefined,
          options: { limit: number; state?: RunState[]; json?: boolean },
        ) => {
          const [{ withControl }, { getRun, listRuns }, { defaultJobs }] = await Promise.all([
            import('../../control/control'),
            import('../../control/runs'),
            import('../../app/jobs'),
          ]);
          await withControl(config, defaultJobs, async (control) => {
            if (runId) {
              console.log(JSON.stringify(await getRun(control, schedule, runId), null, 2));
              return;
            }
            const page = await listRuns(control, schedule, {
              limit: options.limit,
              ...(options.state ? { states: options.state } : {}),
            });
            if (page.runs.length === 0) console.log(`no runs recorded for '${schedule}'`);
            for (const run of page.runs) console.log(options.json ? JSON.stringify(run) : line(run));
          });
          return 0;
        },
      ),
    );
}
