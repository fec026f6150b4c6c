import type { TopicSpec } from '../kafka/topics';
import { formatDuration } from './duration';

/** When a schedule fires: a fixed interval, or a cron expression read in a time zone. */
export type Trigger = { every: number } | { cron: string; timezone: string };

/** One schedule from schedules.yaml, with the defaults applied and the params validated. */
export interface Schedule {
  name: string;
  job: string;
  description?: string;
  trigger: Trigger;
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
   * POST to `onFailure` when `after` runs in a row have failed (once per streak). Not part of the
   * BullMQ scheduler: workers read it, so changing it never re-upserts the scheduler.
   */
  notify?: { onFailure: string; after: number };
  /**
   * Windows missed while paused or down: none (only the run BullMQ held), last (one run, for the
   * latest missed window), all (one per missed window within `catchupWindow`, oldest first).
   * Not part of the BullMQ scheduler: changing it never re-upserts the scheduler.
   */
  catchup: 'none' | 'last' | 'all';
  /** How far back `catchup: all` reaches, in milliseconds. */
  catchupWindow: number;
}

export interface SchedulesFile {
  file: string;
  schedules: Schedule[];
  topics: TopicSpec[];
}

/** What a `defaults:` block sets for every schedule. */
export type ScheduleSettings = Pick<
  Schedule,
  'enabled' | 'overlap' | 'retries' | 'backoff' | 'timeout' | 'keep' | 'notify' | 'catchup' | 'catchupWindow'
> & {
  timezone: string;
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

/** `every 5s` or `cron 0 * * * * (UTC)`, for listings and logs. */
export function describeTrigger(trigger: Trigger): string {
  return 'every' in trigger
    ? `every ${formatDuration(trigger.every)}`
    : `cron ${trigger.cron} (${trigger.timezone})`;
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
export function triggerOfRepeat(repeat: RepeatCadence | undefined): Trigger | undefined {
  if (repeat?.every !== undefined && repeat.every !== null) {
    const every = Number(repeat.every);
    return Number.isFinite(every) && every > 0 ? { every } : undefined;
  }
  if (repeat?.pattern) return { cron: repeat.pattern, timezone: repeat.tz ?? SCHEDULE_DEFAULTS.timezone };
  return undefined;
}
