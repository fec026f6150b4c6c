import type { RunWindow } from '../runtime/job';
import { type RepeatCadence, type Schedule, triggerOfRepeat } from '../schedules/schedule';
import { windowEndingAt } from '../schedules/window';

/** A manual run's id starts with this; other runs name their window in their id, or come from the job scheduler. */
export const MANUAL_RUN_PREFIX = 'manual-';

/** How a run came to be: the job scheduler, a trigger, a backfill or a catch-up of missed windows. */
export type RunTrigger = 'schedule' | 'manual' | 'backfill' | 'catchup';

/**
 * Backfill and catch-up runs carry their window in their id (`backfill-<from ms>-<to ms>-<batch>`,
 * `catchup-<from ms>-<to ms>`): the job's data is its params, checked strictly by the job's schema,
 * and an id cannot change between attempts, so every attempt covers the same window. A catch-up id
 * has no batch part: two schedulers catching up the same window make one job.
 */
const WINDOW_ID = /^(backfill|catchup)-(\d+)-(\d+)(?:-[\w]+)?$/;

export function windowRunId(kind: 'backfill' | 'catchup', window: RunWindow, batch?: string): string {
  const id = `${kind}-${window.from.getTime()}-${window.to.getTime()}`;
  return batch ? `${id}-${batch}` : id;
}

export function triggerOfRun(runId: string): RunTrigger {
  if (runId.startsWith(MANUAL_RUN_PREFIX)) return 'manual';
  return (WINDOW_ID.exec(runId)?.[1] as RunTrigger | undefined) ?? 'schedule';
}

/** What runWindowOf and scheduledAt need of a BullMQ job. */
export interface WindowedJob {
  id?: string | undefined;
  repeatJobKey?: string | undefined;
  timestamp: number;
  opts: { delay?: number; repeat?: RepeatCadence };
}

/**
 * The window a run covers, the same for every attempt: a backfill or catch-up run's own; a
 * scheduled run's slot on the cadence that made it; a manual run's cadence span ending at its
 * trigger time (an empty window at that time when the schedule is no longer known).
 */
export function runWindowOf(job: WindowedJob, due: Date, schedule: Schedule | undefined): RunWindow {
  const explicit = WINDOW_ID.exec(String(job.id));
  if (explicit) return { from: new Date(Number(explicit[2])), to: new Date(Number(explicit[3])) };
  // The cadence the job scheduler made the job with, over the file's (which may have changed since).
  const trigger = (job.repeatJobKey && triggerOfRepeat(job.opts.repeat)) || schedule?.trigger;
  return trigger ? windowEndingAt(trigger, due) : { from: due, to: due };
}

/**
 * When a run is due: a job scheduler's run at its slot (its id is `repeat:<schedule>:<slot ms>`), a
 * catch-up run at its missed slot (the end of the window in its id), any other run (manual,
 * backfill) when it was queued. The scheduler records catch-up runs as queued with this same due
 * time, so the two agree even when PostgreSQL missed the queued record.
 */
/**
 * How late a run's first attempt started after its due time, in seconds; undefined for a retry, or
 * for a catch-up run, due at the slot it missed and late by design (its delay says nothing of timing).
 */
export function startDelaySeconds(
  job: WindowedJob & { attemptsStarted: number; processedOn?: number | undefined },
): number | undefined {
  if (job.attemptsStarted !== 1 || job.processedOn === undefined) return undefined;
  if (triggerOfRun(String(job.id)) === 'catchup') return undefined;
  return (job.processedOn - scheduledAt(job).getTime()) / 1000;
}

export function scheduledAt(job: WindowedJob): Date {
  const id = String(job.id);
  const slot = job.repeatJobKey ? /:(\d+)$/.exec(id)?.[1] : undefined;
  if (slot) return new Date(Number(slot));
  const window = WINDOW_ID.exec(id);
  if (window?.[1] === 'catchup') return new Date(Number(window[3]));
  return new Date(job.timestamp + (job.opts.delay ?? 0));
}
