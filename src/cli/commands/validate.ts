import type { Command } from 'commander';
import { action } from '../action';

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a schedules file; print each problem with file:line:column and exit 1')
    .argument('[file]', 'the file to check (default: SCHEDULES_FILE)')
    .action(
      action(async ({ config }, file: string | undefined) => {
        const [
          { loadSchedulesFile },
          { formatProblem, SchedulesFileError },
          { describeCadence },
          { defaultJobs },
        ] = await Promise.all([
          import('../../schedules/load'),
          import('../../schedules/problems'),
          import('../../schedules/schedule'),
          import('../../app/jobs'),
        ]);
        try {
          const loaded = await loadSchedulesFile(file ?? config.schedulesFile, defaultJobs);
          for (const s of loaded.schedules) {
            console.log(`${s.name}: ${s.job}, ${describeCadence(s)}${s.enabled ? '' : ', disabled'}`);
          }
          console.log(`ok: ${loaded.schedules.length} schedule(s), ${loaded.topics.length} topic(s)`);
          return 0;
        } catch (error) {
          if (!(error instanceof SchedulesFileError)) throw error;
          for (const problem of error.problems) process.stderr.write(`${formatProblem(problem)}\n`);
          return 1;
        }
      }),
    );
}
