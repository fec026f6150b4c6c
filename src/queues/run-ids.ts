import type { RunTrigger } from '../db/run-states';
import type { RunWindow } from '../runtime/job';
import { isClock, type RepeatCadence, type Schedule, triggerOfRepeat } from '../schedules/schedule';
import { windowEndingAt } from '../schedules/window';

/** A manual run's id starts with this; other runs name their window in their id, or come from the job scheduler. */
export const MANUAL_RUN_PREFIX = 'manual-';

/** The kinds of run whose id names its window, and how each came to be. */
const WINDOW_KINDS = {
  backfill: 'backfill',
  catchup: 'catchup',
  window: 'schedule',
  late: 'late-data',
  after: 'after',
  rerun: 'rerun',
} as const satisfies Record<string, RunTrigger>;
export type WindowRunKind = keyof typeof WINDOW_KINDS;

/**
 * These runs carry their window in their id (`<kind>-<from ms>-<to ms>[-<part>]`): the job's data
 * is its params, checked strictly by the job's schema, and an id cannot change between attempts, so
 * every attempt covers the same window. The last part tells apart runs of one window that may both
 * exist: a backfill's batch, the late arrival a re-run answers, the upstream run an `after` run
 * follows, a re-run's own (a re-run keeps the window of the run it redoes). A catch-up or
 * watermark-released id has none: two schedulers queuing the same window make one job.
 */
const WINDOW_ID = /^(backfill|catchup|window|late|after|rerun)-(\d+)-(\d+)(?:-([\w]+))?$/;

/** What every id of a kind starts with (a LIKE pattern's prefix). */
export const runIdPrefix = (kind: WindowRunKind) => `${kind}-`;

export function windowRunId(kind: WindowRunKind, window: RunWindow, part?: string): string {
  const id = `${kind}-${window.from.getTime()}-${window.to.getTime()}`;
  return part ? `${id}-${part.replace(/\W/g, '_')}` : id;
}

export function triggerOfRun(runId: string): RunTrigger {
  if (runId.startsWith(MANUAL_RUN_PREFIX)) return 'manual';
  const kind = WINDOW_ID.exec(runId)?.[1] as WindowRunKind | undefined;
  return kind ? WINDOW_KINDS[kind] : 'schedule';
}

/** A backfill run's batch (the last part of its id); undefined for any other run. */
export function backfillBatchOf(runId: string): string | undefined {
  const match = WINDOW_ID.exec(runId);
  return match?.[1] === 'backfill' ? match[4] : undefined;
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
  return trigger && isClock(trigger) ? windowEndingAt(trigger, due) : { from: due, to: due };
}

/** Runs due at the end of their window (the slot it closes), not when they were queued. */
const DUE_AT_WINDOW_END = new Set(['catchup', 'window']);

/** Runs late by design, left out of the start delay: see startDelaySeconds. */
const LATE_BY_DESIGN = new Set([...DUE_AT_WINDOW_END, 'backfill']);

/**
 * How late a run's first attempt started after its due time, in seconds; undefined for a retry, or
 * for a run late by design: a catch-up run, due at the slot it missed, a run that waited for a
 * watermark (its delay says how late the data was, not how the scheduler kept time), and a backfill
 * run, which waits behind the rest of its backfill and the schedule's live runs.
 */
export function startDelaySeconds(
  job: WindowedJob & { attemptsStarted: number; processedOn?: number | undefined },
): number | undefined {
  if (job.attemptsStarted !== 1 || job.processedOn === undefined) return undefined;
  if (LATE_BY_DESIGN.has(WINDOW_ID.exec(String(job.id))?.[1] ?? '')) return undefined;
  return (job.processedOn - scheduledAt(job).getTime()) / 1000;
}

/**
 * When a run is due: a job scheduler's run at its slot (its id is `repeat:<schedule>:<slot ms>`), a
 * catch-up or watermark-released run at its window's end (in its id), any other run (manual,
 * backfill, late-data, after) when it was queued. The scheduler records the runs it queues with
 * this same due time, so the two agree even when PostgreSQL missed the queued record.
 */
export function scheduledAt(job: WindowedJob): Date {
  const id = String(job.id);
  const slot = job.repeatJobKey ? /:(\d+)$/.exec(id)?.[1] : undefined;
  if (slot) return new Date(Number(slot));
  const window = WINDOW_ID.exec(id);
  if (window && DUE_AT_WINDOW_END.has(window[1] ?? '')) return new Date(Number(window[3]));
  return new Date(job.timestamp + (job.opts.delay ?? 0));
}
