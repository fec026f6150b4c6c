import type { Queue } from 'bullmq';
import type { Queryable } from '../db/pool';
import { recordQueuedRuns } from '../db/run-history';
import { isUnreachable } from '../health/unreachable';
import type { RunWindow } from '../runtime/job';
import type { Schedule } from '../schedules/schedule';
import { scheduledAt, triggerOfRun, type WindowRunKind, windowRunId } from './run-ids';
import { jobTemplateOf } from './scheduler-spec';

export interface WindowRuns {
  kind: WindowRunKind;
  windows: RunWindow[];
  /**
   * The last part of the run ids (a backfill's batch, the late arrival a re-run answers); catch-up
   * and watermark-released ids have none, so a window is queued once.
   */
  batch?: string;
  /** Who asked (a backfill); null for what the scheduler does by itself. */
  by: string | null;
}

/**
 * The BullMQ priority of runs that redo the past (backfill, catch-up), so that they never starve a
 * live run. BullMQ takes every job without a priority (the job scheduler's, a trigger's, and the
 * window, late-data and after runs) before any prioritized one, and prioritized jobs of one
 * priority in the order they came (oldest window first still holds). So a live run that falls due
 * behind a 1,000-window backfill waits only for the backfill run already active (overlap: skip),
 * not for the whole backfill. Prioritized jobs are BullMQ's `prioritized` state, not `waiting`:
 * whatever counts or lists a queue's pending runs must ask for both.
 */
export const CATCHING_UP_PRIORITY = 1;
const CATCHING_UP: ReadonlySet<WindowRunKind> = new Set(['backfill', 'catchup']);

/**
 * Queues one run per window, oldest first (a queue takes its waiting jobs in the order they came),
 * with the file's params and run options, and records them as queued. Each run carries its window
 * in its id (see windowRunId); backfill and catch-up runs go behind live ones (CATCHING_UP_PRIORITY).
 * The runs are queued either way: PostgreSQL being away only delays their record until a worker
 * starts them.
 */
export async function queueWindowRuns(
  queue: Queue,
  db: Queryable,
  schedule: Schedule,
  request: WindowRuns,
): Promise<{ runId: string; window: RunWindow }[]> {
  const template = jobTemplateOf(schedule);
  const priority = CATCHING_UP.has(request.kind) ? { priority: CATCHING_UP_PRIORITY } : {};
  const runs = request.windows.map((window) => ({
    runId: windowRunId(request.kind, window, request.batch),
    window,
  }));
  const [first] = await queue.addBulk(
    runs.map((run) => ({
      name: template.name,
      data: template.data,
      opts: { ...template.opts, ...priority, jobId: run.runId },
    })),
  );
  const queuedAt = first?.timestamp ?? Date.now();
  const queued = runs.map((run) => ({
    ...run,
    jobType: schedule.job,
    trigger: triggerOfRun(run.runId),
    triggeredBy: request.by,
    params: template.data,
    // Due as the worker will see it: a catch-up or released run at its slot, a backfill run when queued.
    dueAt: scheduledAt({ id: run.runId, timestamp: queuedAt, opts: {} }),
  }));
  await recordQueuedRuns(db, schedule.name, queued).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
  return runs;
}
