import type { Queryable } from '../db/pool';
import { type ConsumerStream, watermarksOf } from '../db/watermarks';
import type { JobRegistry } from '../runtime/job-registry';
import type { Schedule } from '../schedules/schedule';
import type { WatermarkView } from './views';

/**
 * The schedules whose job records an event-time watermark (a consumer: JobDefinition's
 * recordsWatermark), each with the topic its params read now.
 */
export function consumerStreams(schedules: readonly Schedule[], jobs: JobRegistry): ConsumerStream[] {
  return schedules.flatMap((schedule) => {
    const topic = schedule.params.topic;
    return jobs.get(schedule.job)?.recordsWatermark && typeof topic === 'string'
      ? [{ schedule: schedule.name, topic }]
      : [];
  });
}

/** Each consumer schedule's watermark (null: none yet), in one query; other schedules are not in it. */
export function consumerWatermarks(
  db: Queryable,
  schedules: readonly Schedule[],
  jobs: JobRegistry,
): Promise<Map<string, Date | null>> {
  return watermarksOf(db, consumerStreams(schedules, jobs));
}

/** A watermark as the API shows it: when, and how far behind `now` (seconds; negative: ahead). */
export function watermarkView(at: Date | null, now: Date): WatermarkView {
  return {
    at: at ? at.toISOString() : null,
    lagSeconds: at ? Math.round(now.getTime() - at.getTime()) / 1_000 : null,
  };
}
