import type { Command } from 'commander';
import { scheduleStatus } from '../../scheduler/status';
import { loadSchedulesFile } from '../../schedules/load';
import { formatProblem, SchedulesFileError } from '../../schedules/problems';
import type { SchedulesFile } from '../../schedules/schedule';
import { action } from '../action';
import { withScheduleStore } from '../schedule-store';

export function registerList(program: Command): void {
  program
    .command('list')
    .description('list the schedules with their state (paused, next run, last toggle) and any file error')
    .action(
      action(async ({ config }) => {
        const file = await loadSchedulesFile(config.schedulesFile).catch((error: unknown) => {
          if (error instanceof SchedulesFileError) return error;
          throw error;
        });
        const inFile = file instanceof SchedulesFileError ? [] : file.schedules.map((s) => s.name);
        const rows = await withScheduleStore(config, async ({ queues, memory }) => {
          const names = [...new Set([...(await memory.names()), ...inFile])].sort();
          return Promise.all(names.map((name) => scheduleStatus(queues.get(name), memory)));
        });
        printTable(
          ['SCHEDULE', 'JOB', 'WHEN', 'STATE', 'NEXT RUN', 'NOTE'],
          rows.map((s) => [
            s.name,
            s.job ?? '-',
            s.trigger ?? '-',
            stateOf(s.paused, Boolean(s.trigger), file, s.name),
            s.nextRunAt && s.trigger ? s.nextRunAt.toISOString() : '-',
            s.lastToggle
              ? `${s.lastToggle.paused ? 'paused' : 'resumed'} ${s.lastToggle.at} ${s.lastToggle.note ?? ''}`
              : '',
          ]),
        );
        if (file instanceof SchedulesFileError) {
          console.log(`\nthe schedules file has errors; the schedules above keep running as they were:`);
          for (const problem of file.problems) console.log(`  ${formatProblem(problem)}`);
        }
        return 0;
      }),
    );
}

function stateOf(
  paused: boolean,
  scheduled: boolean,
  file: SchedulesFile | SchedulesFileError,
  name: string,
) {
  if (!scheduled) return 'not scheduled (is the scheduler running?)';
  if (!(file instanceof SchedulesFileError) && !file.schedules.some((s) => s.name === name)) {
    return 'removed from file';
  }
  return paused ? 'paused' : 'active';
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]?.length ?? 0)));
  for (const row of [header, ...rows]) {
    console.log(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  }
}
