import type { JobSchedulerJson, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Queryable } from '../db/pool';
import { coveredWindowEnds, lastCoveredWindowEnd } from '../db/run-history';
import type { Logger } from '../log/logger';
import { jobsInRedis } from '../queues/queues';
import { schedulerSpecOf } from '../queues/scheduler-spec';
import { queueWindowRuns } from '../queues/window-runs';
import { type ClockSchedule, type Schedule, timedByBullmq } from '../schedules/schedule';
import { windowEndingAt } from '../schedules/window';
import { planCatchup } from './catchup-plan';

/**
 * Queues runs for the windows a schedule missed while paused or down, as its `catchup:` asks (see
 * planCatchup). Called under the schedule's row lock, by every reconcile pass of an active
 * schedule and by a resume before the queue is resumed (so that `last` drops a stale held run
 * before a worker can take it). Two schedulers never double a window: the row lock orders them,
 * a catch-up run's id is its window (BullMQ adds an id once), and a window with a run already in
 * Redis or PostgreSQL is left out. Returns the window ends queued.
 *
 * A reconcile pass reads every schedule's covered window in one query before taking any lock
 * (`coveredBeforeLock`) and uses it only to skip schedules that missed nothing; one that did is
 * read again under its lock, so what is queued rests on reads made under the lock, as before.
 */
export async function catchUp(
  schedule: ClockSchedule,
  using: CatchupDeps,
  { held, coveredBeforeLock }: CatchupReads,
  now = new Date(),
): Promise<Date[]> {
  const { queue, db, log } = using;
  if (schedule.catchup === 'none') return [];
  if (coveredBeforeLock && !missesAny(schedule, coveredBeforeLock.get(schedule.name), held, now)) return [];
  const covered = await lastCoveredWindowEnd(db, schedule.name);
  // A schedule that never ran has missed nothing.
  if (!covered) return [];
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

/**
 * Lets a schedule's queue run again, after catching up what it missed: in this order, so that
 * `last` drops a stale held run before a worker can take it. Under the schedule's row lock, from a
 * reconcile pass or a person's resume. `schedule` undefined: not in the file now, nothing to catch
 * up by. Returns the window ends queued and whether the queue was paused.
 */
export async function catchUpAndResume(
  schedule: Schedule | undefined,
  using: CatchupDeps,
  input: CatchupReads,
): Promise<{ caughtUp: Date[]; resumed: boolean }> {
  // A schedule BullMQ does not time has no job scheduler to have missed slots of.
  const caughtUp = schedule && timedByBullmq(schedule) ? await catchUp(schedule, using, input) : [];
  const resumed = await using.queue.isPaused();
  if (resumed) await using.queue.resume();
  return { caughtUp, resumed };
}

/** What catch-up is told instead of asking again. */
interface CatchupReads {
  /** The due time of the run the job scheduler holds (its next), as read under the row lock. */
  held: Date | undefined;
  /**
   * Each schedule's newest covered window end, read for a whole reconcile pass in one query before
   * any row lock (lastCoveredWindowEnds); absent when not read (a resume).
   */
  coveredBeforeLock?: ReadonlyMap<string, Date>;
}

/** The run a job scheduler holds is due at its `next`. */
export const heldRunOf = (scheduler: Pick<JobSchedulerJson, 'next'> | undefined): Date | undefined =>
  scheduler?.next ? new Date(scheduler.next) : undefined;

/**
 * Whether a read of `covered` made before the lock leaves anything to catch up. A covered end only
 * moves forward, and a later one never plans more slots, so when this early read misses nothing a
 * read under the lock would not either: the usual pass needs no query of its own per schedule.
 * None covered means the schedule never ran (a first run starting meanwhile has missed nothing).
 */
export function missesAny(
  schedule: ClockSchedule,
  covered: Date | undefined,
  held: Date | undefined,
  now: Date,
): boolean {
  return covered !== undefined && planCatchup({ schedule, covered, held, now }).slots.length > 0;
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
  // A slot whose run Redis still holds needs no look in PostgreSQL.
  const notInRedis = slots.filter((_slot, i) => !inRedis[i]);
  const inHistory = await coveredWindowEnds(db, schedule, notInRedis);
  return notInRedis.filter((slot) => !inHistory.has(slot.getTime()));
}

/**
 * `last`: the held run is a stale window. BullMQ refuses to remove a job scheduler's current job,
 * so the scheduler is removed first, then the job, and the scheduler is made again with its first
 * slot the next one after now (on the same grid for `every`). A held run a worker already took
 * cannot be removed: it runs, and the latest window runs after it.
 */
async function dropHeldRun(
  queue: Queue,
  schedule: ClockSchedule,
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
