import type { Queue } from 'bullmq';
import { z } from 'zod';
import type { Queryable } from '../db/pool';
import { recordQueuedRuns } from '../db/run-history';
import { isUnreachable } from '../health/unreachable';
import type { UpstreamRun } from '../runtime/job';
import type { Schedule } from '../schedules/schedule';
import { windowRunId } from './run-ids';
import { jobTemplateOf } from './scheduler-spec';

/**
 * Where an `after` run's job data keeps the run it follows, beside the schedule's params. No job's
 * params can be named so (a trigger or Bull Board's "Add job" goes through the job's strict
 * schema), and the worker takes it out before the params are checked.
 */
export const UPSTREAM_KEY = '__upstream';

const upstreamSchema = z.object({
  schedule: z.string(),
  runId: z.string(),
  window: z.object({ from: z.coerce.date(), to: z.coerce.date() }),
  result: z.record(z.string(), z.unknown()),
});

/** A job's data split into the params its job checks and the upstream run it follows, if any. */
export function splitUpstream(data: unknown): { params: unknown; upstream?: UpstreamRun } {
  if (!data || typeof data !== 'object' || !(UPSTREAM_KEY in data)) return { params: data };
  const { [UPSTREAM_KEY]: upstream, ...params } = data as Record<string, unknown>;
  const parsed = upstreamSchema.safeParse(upstream);
  return parsed.success ? { params, upstream: parsed.data } : { params };
}

/**
 * Queues one run of `downstream` after a completed run of the schedule it follows, with that run's
 * window and result. Its id names the window and the upstream run, so a retried or re-recorded
 * completion queues it once. Recorded as queued (trigger `after`); PostgreSQL being away only
 * delays the record until a worker starts it.
 */
export async function queueAfterRun(
  queue: Queue,
  db: Queryable,
  downstream: Schedule,
  upstream: UpstreamRun,
): Promise<string> {
  const template = jobTemplateOf(downstream);
  const runId = windowRunId('after', upstream.window, `${upstream.schedule}_${upstream.runId}`);
  const job = await queue.add(
    template.name,
    { ...template.data, [UPSTREAM_KEY]: upstream },
    {
      ...template.opts,
      jobId: runId,
    },
  );
  const run = {
    runId,
    jobType: downstream.job,
    trigger: 'after' as const,
    triggeredBy: `${upstream.schedule}/${upstream.runId}`,
    params: template.data,
    dueAt: new Date(job.timestamp),
    window: upstream.window,
  };
  await recordQueuedRuns(db, downstream.name, [run]).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
  return runId;
}
