import type { Queue } from 'bullmq';
import type { Queryable } from '../db/pool';
import { recordQueuedRuns } from '../db/run-history';
import { isUnreachable } from '../health/unreachable';
import { scheduledAt, windowRunId } from '../queues/run-ids';
import type { RunWindow } from '../runtime/job';
import type { Schedule } from '../schedules/schedule';
import { schedulerSpecOf } from './scheduler-spec';

export interface WindowRuns {
  kind: 'backfill' | 'catchup';
  windows: RunWindow[];
  /** A backfill's own part of the run ids; catch-up ids have none, so a window is queued once. */
  batch?: string;
  /** Who asked (a backfill); null for catch-up, which the scheduler does. */
  by: string | null;
}

/**
 * Queues one run per window, oldest first (a queue takes its waiting jobs in the order they came),
 * with the file's params and run options, and records them as queued. Each run carries its window
 * in its id (see windowRunId). The runs are queued either way: PostgreSQL being away only delays
 * their record until a worker starts them.
 */
export async function queueWindowRuns(
  queue: Queue,
  db: Queryable,
  schedule: Schedule,
  request: WindowRuns,
): Promise<{ runId: string; window: RunWindow }[]> {
  const { template } = schedulerSpecOf(schedule);
  const runs = request.windows.map((window) => ({
    runId: windowRunId(request.kind, window, request.batch),
    window,
  }));
  const [first] = await queue.addBulk(
    runs.map((run) => ({
      name: template.name,
      data: template.data,
      opts: { ...template.opts, jobId: run.runId },
    })),
  );
  const queuedAt = first?.timestamp ?? Date.now();
  const queued = runs.map((run) => ({
    ...run,
    jobType: schedule.job,
    trigger: request.kind,
    triggeredBy: request.by,
    params: template.data,
    // Due as the worker will see it: a catch-up run at its slot, a backfill run when queued.
    dueAt: scheduledAt({ id: run.runId, timestamp: queuedAt, opts: {} }),
  }));
  await recordQueuedRuns(db, schedule.name, queued).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
  return runs;
}
