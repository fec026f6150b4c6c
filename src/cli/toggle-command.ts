import os from 'node:os';
import type { Command } from 'commander';
import { action } from './action';

/** Who a CLI change is attributed to in schedule_state and the grid. */
export const cliUser = () => `cli:${os.userInfo().username}`;

/**
 * `tickflow pause` and `tickflow resume`: a person's switch, recorded in PostgreSQL, so it stays
 * across restarts and Redis loss; only a change of the schedule's `enabled:` in the file overrides it.
 */
export function registerToggleCommand(program: Command, verb: 'pause' | 'resume', description: string): void {
  program
    .command(verb)
    .description(description)
    .argument('<schedule>', 'schedule name')
    .option('-n, --note <text>', 'why (shown by `tickflow list` and the grid)')
    .action(
      action(async ({ config }, name: string, options: { note?: string }) => {
        const [{ withControl }, { setPaused }, { defaultJobs }] = await Promise.all([
          import('../control/control'),
          import('../control/toggle'),
          import('../app/jobs'),
        ]);
        const paused = verb === 'pause';
        await withControl(config, defaultJobs, (control) =>
          setPaused(control, name, {
            paused,
            by: cliUser(),
            ...(options.note ? { note: options.note } : {}),
          }),
        );
        console.log(`${paused ? 'paused' : 'resumed'} ${name}${options.note ? ` (${options.note})` : ''}`);
        return 0;
      }),
    );
}
