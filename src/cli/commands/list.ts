import type { Command } from 'commander';
import type { ScheduleView } from '../../control/views';
import { action } from '../action';
import { printTable } from '../table';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the schedules: switch (and who set it), next run, last run, and any file error')
    .option('--json', 'print the JSON the API returns')
    .action(
      action(async ({ config }, options: { json?: boolean }) => {
        const [{ withControl }, { listSchedules }, { formatProblem }, { defaultJobs }] = await Promise.all([
          import('../../control/control'),
          import('../../control/schedules'),
          import('../../schedules/problems'),
          import('../../app/jobs'),
        ]);
        const view = await withControl(config, defaultJobs, (control) => listSchedules(control));
        if (options.json) {
          console.log(JSON.stringify(view, null, 2));
          return 0;
        }
        printTable(
          ['SCHEDULE', 'JOB', 'WHEN', 'STATE', 'NEXT RUN', 'LAST RUN', 'NOTE'],
          view.schedules.map((s) => [
            s.name,
            s.job ?? '-',
            s.cadence ?? '-',
            stateOf(s, view.fileError !== null),
            s.nextRunAt ?? '-',
            s.lastRun ? `${s.lastRun.state} ${s.lastRun.dueAt}` : '-',
            s.switch.by
              ? `${s.paused ? 'paused' : 'resumed'} by ${s.switch.by} ${s.switch.at} ${s.switch.note ?? ''}`
              : '',
          ]),
        );
        if (view.fileError) {
          console.log('\nthe schedules file has errors; the schedules above keep running as they were:');
          for (const problem of view.fileError.problems) console.log(`  ${formatProblem(problem)}`);
        }
        return 0;
      }),
    );
}

function stateOf(s: ScheduleView, fileBroken: boolean): string {
  if (!s.inFile && !fileBroken) return 'removed from file';
  if (!s.scheduled) return 'not scheduled (is the scheduler running?)';
  return s.paused ? 'paused' : 'active';
}
