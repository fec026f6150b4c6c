import type { Command } from 'commander';
import type { ScheduleView } from '../../control/views';
import { action } from '../action';
import { printTable } from '../table';

export function registerList(program: Command): void {
  program
    .command('list')
    .description(
      "list the schedules: switch (and who set it), next run, last run, a consumer's watermark, and any file error",
    )
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
          ['SCHEDULE', 'JOB', 'WHEN', 'STATE', 'NEXT RUN', 'LAST RUN', 'WATERMARK', 'NOTE'],
          view.schedules.map((s) => [
            s.name,
            s.job ?? '-',
            s.cadence ?? '-',
            stateOf(s, view.fileError !== null),
            s.nextRunAt ?? '-',
            s.lastRun ? `${s.lastRun.state} ${s.lastRun.dueAt}` : '-',
            watermarkText(s),
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

/**
 * A consumer's event-time watermark, "12:04:58 (3s behind)" (UTC; with its date when not today), or
 * "none yet"; empty for a schedule that has none (not a consumer).
 */
export function watermarkText(s: Pick<ScheduleView, 'watermark'>, now = new Date()): string {
  if (!s.watermark) return '';
  const { at, lagSeconds } = s.watermark;
  if (at === null || lagSeconds === null) return 'none yet';
  const [date, time] = at.split('T') as [string, string];
  const shown = date === now.toISOString().slice(0, 10) ? time.slice(0, 8) : `${date} ${time.slice(0, 8)}`;
  return `${shown} (${formatLag(lagSeconds)})`;
}

/** 3s behind, 2m 5s behind, 1h 3m behind, 2d 4h behind; 4s ahead (event times past the clock). */
function formatLag(seconds: number): string {
  const whole = Math.round(Math.abs(seconds));
  const [d, h, m, s] = [
    Math.floor(whole / 86_400),
    Math.floor(whole / 3_600) % 24,
    Math.floor(whole / 60) % 60,
    whole % 60,
  ];
  const span = d > 0 ? `${d}d ${h}h` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
  return `${span} ${seconds < 0 && whole > 0 ? 'ahead' : 'behind'}`;
}
