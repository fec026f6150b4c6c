import type { Command } from 'commander';
import { toggleSchedule } from '../scheduler/toggle';
import { action } from './action';
import { withScheduleStore } from './schedule-store';

/**
 * `tickflow pause` and `tickflow resume`: a person's switch, which stays across scheduler restarts;
 * only a change of the schedule's `enabled:` in the file overrides it.
 */
export function registerToggleCommand(program: Command, verb: 'pause' | 'resume', description: string): void {
  program
    .command(verb)
    .description(description)
    .argument('<schedule>', 'schedule name')
    .option('-n, --note <text>', 'why (shown by `tickflow list`)')
    .action(
      action(async ({ config }, name: string, options: { note?: string }) =>
        withScheduleStore(config, async ({ queues, memory }) => {
          const known = await memory.names();
          if (!known.includes(name)) {
            process.stderr.write(
              `error: no schedule named "${name}"; known schedules: ${known.sort().join(', ') || 'none (is the scheduler running?)'}\n`,
            );
            return 1;
          }
          await toggleSchedule(queues.get(name), memory, verb === 'pause', options.note);
          console.log(
            `${verb === 'pause' ? 'paused' : 'resumed'} ${name}${options.note ? ` (${options.note})` : ''}`,
          );
          return 0;
        }),
      ),
    );
}
