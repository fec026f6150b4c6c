import readline from 'node:readline/promises';
import { type Command, InvalidArgumentError } from 'commander';
import type { Control } from '../control/control';
import type { BulkAction, BulkView } from '../control/views';
import { RUN_STATES, type RunState } from '../db/run-states';
import { cliUser } from './toggle-command';

/** The filter of `tickflow rerun` and `tickflow cancel` without a run id: which runs, and how to confirm. */
export interface RunFilterOptions {
  state?: RunState[];
  from?: string;
  to?: string;
  dryRun?: boolean;
  yes?: boolean;
}

function runStates(value: string): RunState[] {
  const states = value.split(',').filter(Boolean);
  const wrong = states.filter((state) => !(RUN_STATES as readonly string[]).includes(state));
  if (wrong.length || states.length === 0)
    throw new InvalidArgumentError(
      `expected states from ${RUN_STATES.join(', ')} (got ${wrong.join(', ') || 'none'})`,
    );
  return states as RunState[];
}

/** The options every bulk run command takes. */
export function withRunFilter(command: Command, defaults: string): Command {
  return command
    .option(
      '-s, --state <states>',
      `with no run id: the runs in these states, comma-separated (${defaults})`,
      runStates,
    )
    .option(
      '--from <time>',
      'with no run id: runs whose window starts at or after this (ISO 8601 with a zone)',
    )
    .option('--to <time>', 'with no run id: runs whose window ends at or before this')
    .option('--dry-run', 'with no run id: count and list the runs; do nothing')
    .option('-y, --yes', 'with no run id: go ahead without asking (the count is still printed first)');
}

const VERB: Record<BulkAction, string> = { rerun: 're-run', cancel: 'cancel' };

/**
 * A bulk re-run or cancel as the CLI does it: counts and lists the runs first (a dry run), then, with
 * --yes or a "y" at the prompt, does it for exactly that count (the API's `expect`: if the runs
 * changed meanwhile, nothing is done). Without a terminal to ask on, --yes is required.
 */
export async function bulkFromCli(
  control: Control,
  name: string,
  action: BulkAction,
  options: RunFilterOptions & { currentParams?: boolean },
): Promise<number> {
  const [{ bulkRuns }, { isoTime }] = await Promise.all([
    import('../control/bulk-runs'),
    import('../control/backfill'),
  ]);
  if (!options.state && !options.from && !options.to)
    throw new Error(
      `give a run id, or a filter (--state, --from, --to) for many runs: \`tickflow ${action} ${name} <runId>\``,
    );
  const bound = (flag: 'from' | 'to') => {
    const text = options[flag];
    if (text === undefined) return {};
    const parsed = isoTime.safeParse(text);
    if (!parsed.success) throw new Error(`--${flag} "${text}": ${parsed.error.issues[0]?.message}`);
    return { [flag]: parsed.data };
  };
  const request = {
    action,
    ...(options.state ? { states: options.state } : {}),
    ...bound('from'),
    ...bound('to'),
    ...(options.currentParams ? { currentParams: true } : {}),
    by: cliUser(),
  };
  const counted = await bulkRuns(control, name, { ...request, dryRun: true });
  const verb = VERB[action];
  console.log(`${counted.matched} run(s) of ${name} to ${verb}:`);
  for (const run of counted.runs) console.log(`  ${line(run)}`);
  if (options.dryRun || counted.matched === 0) return 0;
  if (!options.yes) {
    if (!process.stdin.isTTY)
      throw new Error(`to ${verb} these ${counted.matched} run(s), pass --yes (--dry-run only lists them)`);
    const prompt = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question(`${verb} these ${counted.matched} run(s)? [y/N] `);
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.log('nothing done');
      return 1;
    }
  }
  const done = await bulkRuns(control, name, { ...request, expect: counted.matched });
  report(done);
  return 0;
}

const line = (run: BulkView['runs'][number]) =>
  [run.runId.padEnd(30), run.state.padEnd(9), run.window ? `[${run.window.from}, ${run.window.to})` : '']
    .join('  ')
    .trimEnd();

function report(done: BulkView): void {
  if (done.action === 'rerun') {
    console.log(`queued ${done.runs.length} re-run(s) of ${done.schedule}:`);
    for (const run of done.runs) console.log(`  ${run.rerunId}  re-runs ${run.runId}`);
    return;
  }
  const by = (outcome: string) => done.runs.filter((run) => run.outcome === outcome).length;
  const finished = done.runs.filter((run) => run.outcome === null).length;
  console.log(
    `cancelled ${done.matched - finished} run(s) of ${done.schedule}: ${by('removed')} left the queue, ` +
      `${by('recorded')} recorded, ${by('requested') + by('aborted')} running (their workers abort them)` +
      (finished ? `; ${finished} had finished meanwhile` : ''),
  );
}
