import type { JobSchedulerJson, JobSchedulerTemplateOptions, RepeatOptions } from 'bullmq';
import type { ClockSchedule, Schedule } from '../schedules/schedule';

/** What `upsertJobScheduler` receives for one schedule. */
export interface SchedulerSpec {
  repeat: Pick<RepeatOptions, 'every' | 'pattern' | 'tz'>;
  template: { name: string; data: Record<string, unknown>; opts: JobSchedulerTemplateOptions };
}

/** A schedule's runs as BullMQ jobs: the job type is the job name, the params its data, the file's run options. */
export function jobTemplateOf(schedule: Schedule): SchedulerSpec['template'] {
  return {
    name: schedule.job,
    data: schedule.params,
    opts: {
      attempts: schedule.retries + 1,
      backoff: { type: schedule.backoff.type, delay: schedule.backoff.delay },
      removeOnComplete: { count: schedule.keep.completed },
      removeOnFail: { count: schedule.keep.failed },
    },
  };
}

/** A schedule on a clock as a BullMQ job scheduler. */
export function schedulerSpecOf(schedule: ClockSchedule): SchedulerSpec {
  const { trigger } = schedule;
  return {
    repeat: 'every' in trigger ? { every: trigger.every } : { pattern: trigger.cron, tz: trigger.timezone },
    template: jobTemplateOf(schedule),
  };
}

/**
 * Whether the scheduler in Redis already is what the file asks for. Upserting an unchanged
 * scheduler is not free: for a cron it drops a run that is due, for `every` it resets the phase.
 */
export function matchesSpec(existing: JobSchedulerJson, spec: SchedulerSpec): boolean {
  return (
    existing.name === spec.template.name &&
    existing.every === spec.repeat.every &&
    existing.pattern === spec.repeat.pattern &&
    existing.tz === spec.repeat.tz &&
    canonicalJson(existing.template?.data ?? {}) === canonicalJson(spec.template.data) &&
    canonicalJson(existing.template?.opts ?? {}) === canonicalJson(spec.template.opts)
  );
}

/** JSON with sorted keys: Redis hands objects back with their keys in another order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
