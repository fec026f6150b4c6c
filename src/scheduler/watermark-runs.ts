import type { Queue } from 'bullmq';
import type { Queryable } from '../db/pool';
import {
  type LatestWindowRun,
  lastCoveredWindowEnd,
  latestRunPerWindow,
  recordQueuedRuns,
  waitingWindows,
} from '../db/run-history';
import { type ConsumerStream, lateArrivals, MAX_LATE_ARRIVALS, watermarkOf } from '../db/watermarks';
import type { Logger } from '../log/logger';
import { windowRunId } from '../queues/run-ids';
import { queueWindowRuns } from '../queues/window-runs';
import type { RunWindow } from '../runtime/job';
import type { JobRegistry } from '../runtime/job-registry';
import type { Clock, Schedule, WatermarkWait } from '../schedules/schedule';
import { slotGapMs, slotsBetween, windowEndingAt } from '../schedules/window';

/** At most this many windows registered per pass: a scheduler down for long must not flood history. */
const MAX_NEW_WINDOWS = 1_000;
/** A slot this much older than a pass (or two windows, if longer) was missed while no scheduler ran. */
const MISSED_AFTER_MS = 30_000;
/**
 * Late data re-runs a window only once this long has passed since the newest late arrival in it:
 * a burst of stragglers makes one re-run, not one per consumer run.
 */
export const LATE_DATA_DEBOUNCE_MS = 5_000;
/**
 * A late arrival counts against a run that started less than this before it was stored: the
 * consumer stamps a late arrival just before its commit, so a run starting in between did not see
 * it. Under the debounce, so a re-run (started ≥ debounce after the arrival) is never re-run for it.
 */
const STORED_BEFORE_START_MS = 1_000;

/** A schedule that waits for a watermark. */
export type WindowedSchedule = Schedule & { trigger: Clock; watermark: WatermarkWait };

export const isWindowed = (schedule: Schedule): schedule is WindowedSchedule =>
  schedule.watermark !== undefined && !('after' in schedule.trigger);

export interface WatermarkRunDeps {
  queue: Queue;
  /** The connection holding the schedule's row lock: every step runs under it. */
  db: Queryable;
  /** The schedule `watermark.of` names, as the file has it now (its topic is the stream waited for). */
  upstream: Schedule | undefined;
  jobs: JobRegistry;
  log?: Logger;
}

/**
 * The slots after the newest window already registered, up to now, oldest first. A new schedule
 * starts with the window that ended last. Slots older than a pass can fall behind (MISSED_AFTER_MS,
 * or two windows) were missed while no scheduler ran: `catchup: all` registers them within
 * `catchupWindow`, otherwise only the latest slot runs, as for a schedule BullMQ times.
 */
async function dueSlots(schedule: WindowedSchedule, db: Queryable, now: Date): Promise<Date[]> {
  const { trigger } = schedule;
  const covered = await lastCoveredWindowEnd(db, schedule.name);
  const since = (after: number, max = MAX_NEW_WINDOWS) =>
    slotsBetween(trigger, { after: new Date(after), until: now, anchor: new Date(0) }, max);
  if (!covered) return since(0, 1);
  if (schedule.catchup === 'all')
    return since(Math.max(covered.getTime(), now.getTime() - schedule.catchupWindow));
  const slots = since(covered.getTime());
  const missedBefore = now.getTime() - Math.max(MISSED_AFTER_MS, 2 * slotGapMs(trigger, now));
  return (slots[0]?.getTime() ?? now.getTime()) < missedBefore ? slots.slice(-1) : slots;
}

/** What one pass did for a windowed schedule. */
export interface WatermarkPass {
  registered: number;
  released: RunWindow[];
  rerun: RunWindow[];
}

/**
 * One pass of a windowed schedule, under its row lock (so several schedulers never double a step):
 * 1. each slot its clock reached becomes a `waiting` run for its window (not while paused);
 * 2. waiting windows the watermark has passed (end + lateness) are queued, oldest first, each once;
 * 3. completed windows that late data changed are queued again (trigger late-data), once per burst.
 * Every run's id is its window (and, for a re-run, the late arrival it answers), so a step that two
 * passes both take adds one job.
 */
export async function advanceWindowed(
  schedule: WindowedSchedule,
  deps: WatermarkRunDeps,
  { paused, now = new Date() }: { paused: boolean; now?: Date },
): Promise<WatermarkPass> {
  const registered = paused ? 0 : await registerDueWindows(schedule, deps, now);
  const stream = streamOf(deps.upstream);
  const watermark = stream ? await watermarkOf(deps.db, stream) : null;
  const released = await releasePassed(schedule, deps, watermark);
  const rerun = stream ? await rerunLateWindows(schedule, deps, stream, now) : [];
  return { registered, released, rerun };
}

/** The topic a consumer schedule reads, from its params; undefined for a schedule that reads none. */
export function streamOf(schedule: Schedule | undefined): ConsumerStream | undefined {
  const topic = schedule?.params.topic;
  return schedule && typeof topic === 'string' ? { schedule: schedule.name, topic } : undefined;
}

/** Registers each slot the clock reached as a waiting run of its window. */
async function registerDueWindows(
  schedule: WindowedSchedule,
  deps: WatermarkRunDeps,
  now: Date,
): Promise<number> {
  const slots = await dueSlots(schedule, deps.db, now);
  if (slots.length === 0) return 0;
  const { trigger } = schedule;
  const { lateness, of } = schedule.watermark;
  await recordQueuedRuns(
    deps.db,
    schedule.name,
    slots.map((slot) => {
      const window = windowEndingAt(trigger, slot);
      return {
        runId: windowRunId('window', window),
        jobType: schedule.job,
        trigger: 'schedule' as const,
        triggeredBy: null,
        params: schedule.params,
        dueAt: slot,
        window,
        state: 'waiting' as const,
        waitingFor: `${of}'s watermark to pass ${new Date(slot.getTime() + lateness).toISOString()}`,
      };
    }),
  );
  return slots.length;
}

/** Waiting windows whose end + lateness the watermark has passed, queued oldest first. */
async function releasePassed(
  schedule: WindowedSchedule,
  deps: WatermarkRunDeps,
  watermark: Date | null,
): Promise<RunWindow[]> {
  if (!watermark) return [];
  const passedUntil = new Date(watermark.getTime() - schedule.watermark.lateness);
  const windows = await waitingWindows(deps.db, schedule.name, passedUntil);
  if (windows.length === 0) return [];
  await queueWindowRuns(deps.queue, deps.db, schedule, { kind: 'window', windows, by: null });
  deps.log?.info(
    { schedule: schedule.name, windows: windows.length, watermark },
    `schedule ${schedule.name}: ${windows.length} window(s) passed by ${schedule.watermark.of}'s watermark queued`,
  );
  return windows;
}

/**
 * Completed windows that late data landed in after their latest run started, once the late data
 * has settled (LATE_DATA_DEBOUNCE_MS), for windows that ended within `rerunWithin`. What a window
 * reads is the job's to say (`eventTimeRead`, e.g. a rollup's sliding span); by default its own window.
 */
async function rerunLateWindows(
  schedule: WindowedSchedule,
  deps: WatermarkRunDeps,
  stream: ConsumerStream,
  now: Date,
): Promise<RunWindow[]> {
  const since = new Date(now.getTime() - schedule.watermark.rerunWithin);
  const settled = new Date(now.getTime() - LATE_DATA_DEBOUNCE_MS);
  const late = await lateArrivals(deps.db, stream.schedule, { since, until: settled });
  if (late.length === 0) return [];
  if (late.length === MAX_LATE_ARRIVALS) {
    deps.log?.warn(
      { schedule: schedule.name, of: stream.schedule },
      `over ${MAX_LATE_ARRIVALS} seconds of late data within rerunWithin: only the newest re-run their windows this pass`,
    );
  }
  const runs = await latestRunPerWindow(deps.db, schedule.name, since);
  const reads = readSpanOf(schedule, deps.jobs);
  const reruns = runs.flatMap((run) => {
    const newest = newestLateArrivalFor(run, reads(run.window), late);
    return newest ? [{ window: run.window, batch: String(newest.getTime()) }] : [];
  });
  for (const { window, batch } of reruns) {
    await queueWindowRuns(deps.queue, deps.db, schedule, {
      kind: 'late',
      windows: [window],
      batch,
      by: null,
    });
  }
  if (reruns.length) {
    deps.log?.info(
      { schedule: schedule.name, windows: reruns.length },
      `schedule ${schedule.name}: ${reruns.length} window(s) re-run for late data`,
    );
  }
  return reruns.map((rerun) => rerun.window);
}

/** When the newest late arrival a finished run missed was stored; undefined when it missed none. */
function newestLateArrivalFor(
  run: LatestWindowRun,
  read: RunWindow,
  late: { eventSecond: Date; storedAt: Date }[],
): Date | undefined {
  if (run.state !== 'completed' || !run.startedAt) return undefined;
  const missedAfter = run.startedAt.getTime() - STORED_BEFORE_START_MS;
  let newest: Date | undefined;
  for (const { eventSecond, storedAt } of late) {
    const inRead = eventSecond >= read.from && eventSecond < read.to;
    if (inRead && storedAt.getTime() > missedAfter && (!newest || storedAt > newest)) newest = storedAt;
  }
  return newest;
}

/** The span of event time a run of this schedule reads, by its window (the job's own rule, if any). */
function readSpanOf(schedule: Schedule, jobs: JobRegistry): (window: RunWindow) => RunWindow {
  const read = jobs.get(schedule.job)?.eventTimeRead;
  return (window) => {
    try {
      return read ? read(schedule.params, window) : window;
    } catch {
      // Params the job refuses fail its runs on their own; their window is all a re-run can go by.
      return window;
    }
  };
}
