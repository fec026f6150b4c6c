import type { TopicSpec } from '../kafka/topics';
import { formatDuration } from './duration';

/** A clock a schedule fires on: a fixed interval, or a cron expression read in a time zone. */
export type Clock = { every: number } | { cron: string; timezone: string };

/** When a schedule fires: on a clock, or after each completed run of another schedule (`after:`). */
export type Trigger = Clock | { after: string };

export const isClock = (trigger: Trigger): trigger is Clock => !('after' in trigger);

/**
 * A windowed schedule's wait for its data: a run for window W is queued once the event-time
 * watermark of the consumer schedule `of` has passed W.to + lateness, and queued again when late
 * data lands in a window that ended less than `rerunWithin` ago.
 */
export interface WatermarkWait {
  of: string;
  lateness: number;
  rerunWithin: number;
}

/** How far back late data re-runs a window when `watermark.rerunWithin` is not set. */
export const DEFAULT_RERUN_WITHIN = 3_600_000;

/** One schedule from schedules.yaml, with the defaults applied and the params validated. */
export interface Schedule {
  name: string;
  job: string;
  description?: string;
  trigger: Trigger;
  /** Set: the schedule's clock makes its windows due, and each waits for this watermark to run. */
  watermark?: WatermarkWait;
  /** The file's wish; a person's pause or resume in the UI or CLI wins until this value changes. */
  enabled: boolean;
  /** The params after the job's own zod schema (defaults filled in). */
  params: Record<string, unknown>;
  /** skip: at most one active run of this schedule across all workers; allow: runs may overlap. */
  overlap: 'skip' | 'allow';
  retries: number;
  backoff: { type: 'fixed' | 'exponential'; delay: number };
  /** Hard limit of one attempt, in milliseconds: the run is aborted and fails. */
  timeout: number;
  /** How many finished runs BullMQ keeps (Bull Board's history); job_runs keeps them all. */
  keep: { completed: number; failed: number };
  /**
   * Where notices go, by event (see NotifySettings): `onFailure` when `after` runs in a row have
   * failed (once per streak), and so on. Not part of the BullMQ scheduler: workers read it, so
   * changing it never re-upserts the scheduler.
   */
  notify?: NotifySettings;
  /**
   * The failure policy: the Nth failed run in a row pauses the schedule (by `tickflow`, with a
   * `schedule_paused` notice). Workers read it, like notify.
   */
  pauseAfter?: number;
  /**
   * A run not finished this long (ms) after its due time is late: `run_deadline_missed` is sent
   * once while it still runs, and the run is flagged. Workers read it, like notify.
   */
  deadline?: number;
  /**
   * Windows missed while paused or down: none (only the run BullMQ held), last (one run, for the
   * latest missed window), all (one per missed window within `catchupWindow`, oldest first).
   * Not part of the BullMQ scheduler: changing it never re-upserts the scheduler.
   */
  catchup: 'none' | 'last' | 'all';
  /** How far back `catchup: all` reaches, in milliseconds. */
  catchupWindow: number;
  /**
   * The params a trigger may override, as the file lists them (the schedule's own `overridable:`, else
   * the defaults' ones that are params of its job). Left out: the job type's own harmless ones.
   */
  overridable?: string[];
}

/**
 * A schedule's `notify:`: a URL per event, POSTed a JSON notice (`event` names it). The alerts
 * (deadline, pause) go where failures go unless given their own; a recovery only where asked.
 */
export interface NotifySettings {
  /** run_failed: when the failing streak reaches `after` (once per streak; a completed run ends it). */
  onFailure?: string;
  /** run_recovered: a completed run ended a streak of `after` or more failed runs. */
  onRecovery?: string;
  /** run_deadline_missed (deadline:); onFailure when not given. */
  onDeadline?: string;
  /** schedule_paused (pauseAfter:); onFailure when not given. */
  onPause?: string;
  after: number;
}

/** What a schedule's notify: tells, by the `event` of its JSON notice. */
export const NOTIFY_EVENTS = [
  'run_failed',
  'run_recovered',
  'run_deadline_missed',
  'schedule_paused',
] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];

/** Where a notice of `event` goes, or undefined when the schedule's notify: sends it nowhere. */
export function notifyUrlOf(notify: NotifySettings | undefined, event: NotifyEvent): string | undefined {
  if (!notify) return undefined;
  switch (event) {
    case 'run_failed':
      return notify.onFailure;
    case 'run_recovered':
      return notify.onRecovery;
    case 'run_deadline_missed':
      return notify.onDeadline ?? notify.onFailure;
    case 'schedule_paused':
      return notify.onPause ?? notify.onFailure;
  }
}

/** A schedule on a clock (every or cron), waiting for a watermark or not. */
export type ClockSchedule = Schedule & { trigger: Clock };

export const onClock = (schedule: Schedule): schedule is ClockSchedule => isClock(schedule.trigger);

/**
 * A schedule whose runs a BullMQ job scheduler makes: on a clock and waiting for nothing. (A
 * schedule that waits for a watermark has its windows queued by the scheduler once their data is
 * there; one that runs `after:` another, by the worker that completed the other's run.)
 */
export const timedByBullmq = (schedule: Schedule): schedule is ClockSchedule =>
  onClock(schedule) && schedule.watermark === undefined;

export interface SchedulesFile {
  file: string;
  schedules: Schedule[];
  topics: TopicSpec[];
  /** Which version of the file this is (set by ScheduleSource, which reads it). */
  version?: FileVersion;
}

/** A version of the schedules file: what the audit log keys an applied edit by. */
export interface FileVersion {
  /** sha256 of its text. */
  hash: string;
  /** Its modification time when read: a scheduler never records an older version over a newer one. */
  modifiedAt: Date;
}

/** What a `defaults:` block sets for every schedule. */
export type ScheduleSettings = Pick<
  Schedule,
  | 'enabled'
  | 'overlap'
  | 'retries'
  | 'backoff'
  | 'timeout'
  | 'keep'
  | 'notify'
  | 'catchup'
  | 'catchupWindow'
  | 'pauseAfter'
  | 'deadline'
> & {
  timezone: string;
  overridable?: string[];
};

export const SCHEDULE_DEFAULTS: Readonly<ScheduleSettings> = {
  timezone: 'UTC',
  enabled: true,
  overlap: 'skip',
  retries: 0,
  backoff: { type: 'exponential', delay: 1_000 },
  timeout: 5 * 60_000,
  keep: { completed: 100, failed: 500 },
  catchup: 'none',
  catchupWindow: 3_600_000,
};

/** `every 5s`, `cron 0 * * * * (UTC)` or `after consumer`, for listings and logs. */
export function describeTrigger(trigger: Trigger): string {
  if ('after' in trigger) return `after ${trigger.after}`;
  return 'every' in trigger
    ? `every ${formatDuration(trigger.every)}`
    : `cron ${trigger.cron} (${trigger.timezone})`;
}

/** `every 1m, once consumer's watermark passes each window's end + 15s`: a schedule's whole cadence. */
export function describeCadence(schedule: Pick<Schedule, 'trigger' | 'watermark'>): string {
  const { watermark } = schedule;
  const wait = watermark
    ? `, once ${watermark.of}'s watermark passes each window's end + ${formatDuration(watermark.lateness)}`
    : '';
  return `${describeTrigger(schedule.trigger)}${wait}`;
}

/** A cadence as BullMQ gives it back (a job's `repeat` options, a job scheduler; `every` may be a string from Redis). */
export interface RepeatCadence {
  every?: number | string | undefined;
  pattern?: string | undefined;
  tz?: string | undefined;
}

/**
 * The trigger a BullMQ job scheduler runs, read back from its repeat options (they may outlive a
 * file edit); undefined when they name no usable cadence.
 */
export function triggerOfRepeat(repeat: RepeatCadence | undefined): Clock | undefined {
  if (repeat?.every !== undefined && repeat.every !== null) {
    const every = Number(repeat.every);
    return Number.isFinite(every) && every > 0 ? { every } : undefined;
  }
  if (repeat?.pattern) return { cron: repeat.pattern, timezone: repeat.tz ?? SCHEDULE_DEFAULTS.timezone };
  return undefined;
}
