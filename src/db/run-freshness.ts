import type pg from 'pg';
import { FRESHNESS_STAGES, FreshnessCounts, type FreshnessStage } from '../metrics/freshness';

/**
 * The freshness of the completed runs of `schedules` due after `since`: each run's counts by fine
 * bucket (its result's `freshness`), added up by stage and bucket in PostgreSQL, so any worker's
 * runs count, and a read returns at most one row per bucket and stage.
 */
export async function freshnessOfRuns(
  db: pg.Pool,
  schedules: readonly string[],
  since: Date,
): Promise<Record<FreshnessStage, FreshnessCounts>> {
  const { rows } = await db.query<{ stage: FreshnessStage; bucket: string; count: number }>(
    `select stage, bucket.key as bucket, sum(bucket.value::bigint)::float8 as count
       from runs
      cross join unnest($3::text[]) as stage
      cross join jsonb_each_text(runs.result->'freshness'->stage->'buckets') as bucket
      where schedule = any($1) and due_at > $2 and state = 'completed'
        and jsonb_typeof(runs.result->'freshness'->stage->'buckets') = 'object'
      group by stage, bucket.key`,
    [schedules, since, FRESHNESS_STAGES],
  );
  const stages = { stored: new FreshnessCounts(), alerted: new FreshnessCounts() };
  for (const { stage, bucket, count } of rows)
    stages[stage].merge({ count, sumSeconds: 0, buckets: { [bucket]: count } });
  return stages;
}
