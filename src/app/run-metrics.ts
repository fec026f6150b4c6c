import { messageCountsOf } from '../../jobs/index';
import type { Metrics } from '../metrics/metrics';
import type { ScheduleSource } from '../schedules/source';
import type { WorkerTuning } from '../worker/process';

/**
 * The workers' `onFinished` for `metrics`: each attempt recorded, its result's messages counted by
 * the fields its schedule's job type names (jobs/index.ts), as the schedules file says now.
 */
export function recordRunsIn(
  metrics: Metrics,
  source: ScheduleSource,
): NonNullable<WorkerTuning['onFinished']> {
  return (schedule, state, seconds, details) => {
    const job = source.current.schedules.find((s) => s.name === schedule)?.job;
    metrics.recordRun(schedule, state, seconds, { ...details, messageCounts: messageCountsOf(job) });
  };
}
