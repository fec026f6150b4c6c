import { type Command, InvalidArgumentError } from 'commander';
import { action } from '../action';
import { cliUser } from '../toggle-command';

/** mark-run.ts's MARK_STATES, without loading zod for `tickflow --help`. */
const MARK_STATES = ['completed', 'failed'] as const;
type MarkState = (typeof MARK_STATES)[number];

function markState(value: string): MarkState {
  if ((MARK_STATES as readonly string[]).includes(value)) return value as MarkState;
  throw new InvalidArgumentError(`expected ${MARK_STATES.join(' or ')} (got ${value})`);
}

/** `tickflow mark <schedule> <runId> completed|failed [--note]`: a finished run's state set by hand. */
export function registerMark(program: Command): void {
  program
    .command('mark')
    .description(
      'mark a finished run completed or failed by hand (who, when and its state before are kept); only a finished run',
    )
    .argument('<schedule>', 'schedule name')
    .argument('<runId>', 'the run (see `tickflow runs <schedule>`)')
    .argument('<state>', 'completed or failed', markState)
    .option('-n, --note <text>', "why (at most 2,000 characters): kept as the run's note")
    .action(
      action(
        async ({ config }, name: string, runId: string, state: MarkState, options: { note?: string }) => {
          const [{ withControl }, { markRun }, { defaultJobs }] = await Promise.all([
            import('../../control/control'),
            import('../../control/mark-run'),
            import('../../app/jobs'),
          ]);
          const run = await withControl(config, defaultJobs, (control) =>
            markRun(control, name, runId, {
              state,
              by: cliUser(),
              ...(options.note ? { note: options.note } : {}),
            }),
          );
          console.log(`marked run ${runId} of ${name} ${run.state} (was ${run.marked?.from ?? 'unknown'})`);
          return 0;
        },
      ),
    );
}
