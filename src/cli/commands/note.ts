import type { Command } from 'commander';
import { action } from '../action';
import { cliUser } from '../toggle-command';

/** `tickflow note <schedule> <runId> <text>`: a note on a run, for the next shift ('' clears it). */
export function registerNote(program: Command): void {
  program
    .command('note')
    .description("leave a note on a run, in any state (at most 2,000 characters; '' clears it)")
    .argument('<schedule>', 'schedule name')
    .argument('<runId>', 'the run (see `tickflow runs <schedule>`)')
    .argument('<text>', 'the note')
    .action(
      action(async ({ config }, name: string, runId: string, text: string) => {
        const [{ withControl }, { noteRun }, { defaultJobs }] = await Promise.all([
          import('../../control/control'),
          import('../../control/note-run'),
          import('../../app/jobs'),
        ]);
        const run = await withControl(config, defaultJobs, (control) =>
          noteRun(control, name, runId, { note: text, by: cliUser() }),
        );
        console.log(
          run.note ? `noted run ${runId} of ${name}: ${run.note.text}` : `cleared the note of run ${runId}`,
        );
        return 0;
      }),
    );
}
