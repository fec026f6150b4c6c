import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Queryable } from '../db/pool';
import { coveredWindowEnds, lastCoveredWindowEnd } from '../db/run-history';
import type { Logger } from '../log/logger';
import { jobsInRedis } from '../queues/queues';
import type { Schedule } from '../schedules/schedule';
import { windowEndingAt } from '../schedules/window';
import { planCatchup } from './catchup-plan';
import { schedulerSpecOf } from './scheduler-spec';
import { queueWindowRuns } from './window-runs';

/**
 * Queues runs for the windows a schedule missed while paused or down, as its `catchup:` asks (see
 * planCatchup). Called under the schedule's row lock, by every reconcile pass of an active
 * schedule and by a resume before the queue is resumed (so that `last` drops a stale held run
 * before a worker can take it). Two schedulers never double a window: the row lock orders them,
 * a catch-up run's id is its window (BullMQ adds an id once), and a window with a run already in
 * Redis or PostgreSQL is left out. Returns the window ends queued.
 */
export async function catchUp(schedule: Schedule, using: CatchupDeps, now = new Date()): Promise<Date[]> {
  const { queue, db, log } = using;
  if (schedule.catchup === 'none') return [];
  const covered = await lastCoveredWindowEnd(db, schedule.name);
  // A schedule that never ran has missed nothing.
  if (!covered) return [];
  const next = (await queue.getJobScheduler(schedule.name))?.next;
  const held = next ? new Date(next) : undefined;
  const plan = planCatchup({ schedule, covered, held, now });
  const slots = await notRunYet(using, schedule.name, plan.slots);
  if (slots.length === 0) return [];
  if (plan.dropHeld && held) await dropHeldRun(queue, schedule, held, now, log);
  const windows = slots.map((slot) => windowEndingAt(schedule.trigger, slot));
  await queueWindowRuns(queue, db, schedule, { kind: 'catchup', windows, by: null });
  log?.info(
    { schedule: schedule.name, catchup: schedule.catchup, windows: slots.length },
    `schedule ${schedule.name} catching up ${slots.length} missed window(s)`,
  );
  return slots;
}

export interface CatchupDeps {
  queue: Queue;
  /** The queue's Redis connection. */
  redis: Redis;
  /** The connection of the transaction holding the schedule's row lock: no second pool connection. */
  db: Queryable;
  /** The scheduler's log; a resume from the CLI or API has none (it answers the caller instead). */
  log?: Logger;
}

/** The job a job scheduler makes for a slot is named `repeat:<scheduler id>:<slot ms>`. */
const scheduledRunId = (schedule: string, slot: Date) => `repeat:${schedule}:${slot.getTime()}`;

/**
 * The slots with no run yet. Redis is asked first: a run that starts meanwhile is in Redis (or,
 * once done and trimmed, in PostgreSQL, which it is written to when it starts) — so none is missed.
 */
async function notRunYet(
  { queue, redis, db }: CatchupDeps,
  schedule: string,
  slots: Date[],
): Promise<Date[]> {
  if (slots.length === 0) return [];
  const inRedis = await jobsInRedis(
    redis,
    slots.map((slot) => ({ queue, id: scheduledRunId(schedule, slot) })),
  );
  const inHistory = await coveredWindowEnds(db, schedule, slots);
  return slots.filter((slot, i) => !inRedis[i] && !inHistory.has(slot.getTime()));
}

/**
 * `last`: the held run is a stale window. BullMQ refuses to remove a job scheduler's current job,
 * so the scheduler is removed first, then the job, and the scheduler is made again with its first
 * slot the next one after now (on the same grid for `every`). A held run a worker already took
 * cannot be removed: it runs, and the latest window runs after it.
 */
async function dropHeldRun(
  queue: Queue,
  schedule: Schedule,
  held: Date,
  now: Date,
  log?: Logger,
): Promise<void> {
  const heldId = scheduledRunId(schedule.name, held);
  // Removing the scheduler also removes its job while that is still delayed (downtime); a waiting one stays.
  await queue.removeJobScheduler(schedule.name);
  // 0: nothing removed, because a worker holds the job (or it went with the scheduler).
  if ((await queue.remove(heldId)) === 0 && (await queue.getJob(heldId))) {
    log?.warn({ schedule: schedule.name, runId: heldId }, 'the stale held run has started; it runs too');
  }
  const { repeat, template } = schedulerSpecOf(schedule);
  const { trigger } = schedule;
  const startDate =
    'every' in trigger
      ? held.getTime() + (Math.floor((now.getTime() - held.getTime()) / trigger.every) + 1) * trigger.every
      : undefined;
  await queue.upsertJobScheduler(schedule.name, startDate ? { ...repeat, startDate } : repeat, template);
}
