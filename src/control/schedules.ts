import type { Queue } from 'bullmq';
import { lastRuns, runsInWindow } from '../db/run-history';
import type { ScheduleState } from '../db/schedule-states';
import { formatDuration } from '../schedules/duration';
import { describeCadence, describeTrigger, type Schedule } from '../schedules/schedule';
import type { Control, FileState } from './control';
import { unknownSchedule } from './errors';
import { schedulePolicyOf } from './schedule-policy';
import { overridableParams } from './trigger';
import type {
  FileErrorView,
  RunState,
  RunSummary,
  SchedulesView,
  ScheduleView,
  WatermarkView,
} from './views';
import { consumerWatermarks, watermarkView } from './watermarks';

export interface GridWindow {
  from: Date;
  to: Date;
  /** At most this many runs per schedule (the newest). */
  perRow: number;
  states?: RunState[];
}

/**
 * Every schedule with its switch (PostgreSQL), its next run (BullMQ) and its last run (`runs`);
 * with a window, also each schedule's runs due in it: what the grid draws.
 */
export async function listSchedules(control: Control, window?: GridWindow): Promise<SchedulesView> {
  const file = control.file();
  const [states, managed] = await Promise.all([control.states.all(), control.states.managed()]);
  const inFile = file.current?.schedules ?? [];
  // The file's order first (as people wrote it), then schedules still being removed.
  const names = [...new Set([...inFile.map((s) => s.name), ...managed])];
  const [views, runs] = await Promise.all([
    viewsOf(control, names, states),
    // One more than shown: whether a row has older runs in the window is then known, not guessed.
    window ? runsInWindow(control.db, names, { ...window, perRow: window.perRow + 1 }) : Promise.resolve([]),
  ]);
  return {
    file: file.path,
    fileError: fileErrorOf(file),
    readOnly: control.readOnly ?? false,
    schedules: views,
    ...(window ? { window: windowOf(window, names, runs) } : {}),
  };
}

export async function getSchedule(control: Control, name: string): Promise<ScheduleView> {
  await requireSchedule(control, name);
  const state = await control.states.get(name);
  const [view] = await viewsOf(control, [name], state ? [state] : []);
  return view as ScheduleView;
}

/** Schedules a person may address: in the file, or set up by the scheduler and not removed. */
export async function knownNames(control: Control): Promise<string[]> {
  const inFile = control.file().current?.schedules.map((s) => s.name) ?? [];
  return [...new Set([...inFile, ...(await control.states.managed())])];
}

/**
 * Throws NotFoundError naming the known schedules unless `name` is one; `removedToo` also accepts
 * a schedule gone from the file, whose history is still there to read.
 */
export async function requireSchedule(
  control: Control,
  name: string,
  options: { removedToo?: boolean } = {},
): Promise<void> {
  const known = await knownNames(control);
  if (known.includes(name)) return;
  if (options.removedToo && (await control.states.get(name))) return;
  throw unknownSchedule(name, known);
}

async function viewsOf(control: Control, names: string[], states: ScheduleState[]): Promise<ScheduleView[]> {
  const byName = new Map(states.map((state) => [state.schedule, state]));
  const definitions = new Map((control.file().current?.schedules ?? []).map((s) => [s.name, s]));
  const shown = names.flatMap((name) => definitions.get(name) ?? []);
  const [last, watermarks] = await Promise.all([
    lastRuns(control.db, names),
    consumerWatermarks(control.db, shown, control.jobs),
  ]);
  const now = new Date();
  return Promise.all(
    names.map((name) =>
      viewOf(name, definitions.get(name), byName.get(name), control.queues.get(name), {
        lastRun: last.get(name),
        overridable: overridableIn(control, definitions.get(name)),
        // Only a consumer schedule has one: null for the rest.
        watermark: watermarks.has(name) ? watermarkView(watermarks.get(name) ?? null, now) : null,
      }),
    ),
  );
}

/** What a trigger of the schedule may override (see control/trigger.ts); nothing for one not in the file. */
const overridableIn = (control: Control, definition: Schedule | undefined): string[] =>
  definition ? [...overridableParams(control.jobs, definition)] : [];

async function viewOf(
  name: string,
  definition: Schedule | undefined,
  state: ScheduleState | undefined,
  queue: Queue,
  {
    lastRun,
    watermark,
    overridable,
  }: { lastRun: RunSummary | undefined; watermark: WatermarkView | null; overridable: string[] },
): Promise<ScheduleView> {
  const scheduler = await queue.getJobScheduler(name);
  const paused = state?.appliedAt ? state.paused : !(definition?.enabled ?? true);
  const cadence = definition
    ? describeCadence(definition)
    : scheduler?.every !== undefined
      ? describeTrigger({ every: Number(scheduler.every) })
      : scheduler?.pattern
        ? describeTrigger({ cron: scheduler.pattern, timezone: scheduler.tz ?? 'UTC' })
        : null;
  return {
    name,
    job: definition?.job ?? scheduler?.name ?? null,
    description: definition?.description ?? null,
    cadence,
    ...dependenciesOf(definition),
    inFile: definition !== undefined,
    params: definition?.params ?? null,
    overridable,
    switch: {
      paused,
      note: state?.note ?? null,
      by: state?.changedBy ?? null,
      at: state?.changedBy ? state.changedAt.toISOString() : null,
    },
    paused,
    scheduled: scheduler !== undefined,
    // While paused the pending run waits for the resume; its slot is not a promise.
    nextRunAt: scheduler?.next && !paused ? new Date(Number(scheduler.next)).toISOString() : null,
    lastRun: lastRun ?? null,
    ...schedulePolicyOf(definition),
    watermark,
  };
}

function dependenciesOf(definition: Schedule | undefined): Pick<ScheduleView, 'after' | 'waitsFor'> {
  const trigger = definition?.trigger;
  const wait = definition?.watermark;
  return {
    after: trigger && 'after' in trigger ? trigger.after : null,
    waitsFor: wait
      ? {
          of: wait.of,
          lateness: formatDuration(wait.lateness),
          rerunWithin: formatDuration(wait.rerunWithin),
        }
      : null,
  };
}

function fileErrorOf(file: FileState): FileErrorView | null {
  if (!file.error) return null;
  const { error, at } = file.error;
  return { message: error.message, problems: error.problems, at: at?.toISOString() ?? null };
}

function windowOf(
  window: GridWindow,
  names: string[],
  runs: RunSummary[],
): NonNullable<SchedulesView['window']> {
  const bySchedule: Record<string, RunSummary[]> = Object.fromEntries(names.map((name) => [name, []]));
  for (const run of runs) bySchedule[run.schedule]?.push(run);
  const capped = names.filter((name) => (bySchedule[name]?.length ?? 0) > window.perRow);
  for (const rows of Object.values(bySchedule)) rows.splice(window.perRow);
  return { from: window.from.toISOString(), to: window.to.toISOString(), runs: bySchedule, capped };
}
