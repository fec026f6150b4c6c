import type { Queue } from 'bullmq';
import { describeTrigger } from '../schedules/schedule';
import type { ScheduleMemory, Toggle } from './memory';

/** What Redis says about one schedule right now: the truth of what runs, whatever the file says. */
export interface ScheduleStatus {
  name: string;
  /** The job type its scheduler produces; undefined when the scheduler is missing. */
  job?: string;
  /** `every 5s` or `cron 0 * * * * (UTC)`. */
  trigger?: string;
  paused: boolean;
  /** When the pending run is due (while paused it waits for the resume). */
  nextRunAt?: Date;
  /** The last pause or resume made by a person, with its note. */
  lastToggle?: Toggle;
}

export async function scheduleStatus(queue: Queue, memory: ScheduleMemory): Promise<ScheduleStatus> {
  const [scheduler, paused, lastToggle] = await Promise.all([
    queue.getJobScheduler(queue.name),
    queue.isPaused(),
    memory.lastToggle(queue.name),
  ]);
  const trigger =
    scheduler?.every !== undefined
      ? describeTrigger({ every: Number(scheduler.every) })
      : scheduler?.pattern
        ? describeTrigger({ cron: scheduler.pattern, timezone: scheduler.tz ?? 'UTC' })
        : undefined;
  return {
    name: queue.name,
    paused,
    ...(scheduler ? { job: scheduler.name } : {}),
    ...(trigger ? { trigger } : {}),
    ...(scheduler?.next ? { nextRunAt: new Date(Number(scheduler.next)) } : {}),
    // A pause made in Bull Board is not recorded with a note; a toggle that no longer matches the
    // queue's state is out of date, not the reason for it.
    ...(lastToggle && lastToggle.paused === paused ? { lastToggle } : {}),
  };
}
