import type pg from 'pg';
import {
  failedStreak,
  markDeadlineMissed,
  recordSkippedSlots,
  runBefore,
  switchMovedAt,
} from '../db/run-policy';
import type { SkipReason } from '../db/run-states';
import { ScheduleStates } from '../db/schedule-states';
import type { Logger } from '../log/logger';
import type { FailureNotifier } from '../notify/failure-notifier';
import { pauseSchedule } from '../queues/pause';
import type { QueueSet } from '../queues/queues';
import { formatDuration } from '../schedules/duration';
import { isClock, notifyUrlOf, type Schedule } from '../schedules/schedule';
import { slotsBetween } from '../schedules/window';

/** Who the failure policy's pause is attributed to. */
export const POLICY_AUTHOR = 'tickflow';

/** At most this many skipped slots are counted for one late run (a schedule paused for a week). */
const MAX_SKIPPED = 100_000;

/** What the policy knows of an attempt (run-job.ts's RunAttempt, in its terms). */
export interface PolicyAttempt {
  schedule: string;
  runId: string;
  attempt: number;
  jobType: string;
  /** When the run was due: its slot, or when it was queued. */
  dueAt: Date | undefined;
  startedAt: Date;
  /** The job scheduler made it (its id is `repeat:<schedule>:<slot>`). */
  fromJobScheduler: boolean;
}

export interface FailurePolicyOptions {
  db: pg.Pool;
  /** The schedules' queues (on the pool's connection), for the pause. */
  queues: QueueSet;
  notifier: FailureNotifier;
  log: Logger;
  /** Told of slots the job scheduler skipped (tickflow_slots_skipped_total). */
  onSlotsSkipped?: (schedule: string, reason: SkipReason, count: number) => void;
}

/**
 * A schedule's failure policy, applied by the worker that runs its runs:
 * - `pauseAfter: N`: the Nth failed run in a row (since the last completed run and the last resume)
 *   pauses the schedule through the one pause (queues/pause.ts), noted "paused after N failed runs
 *   in a row" by `tickflow`, before the attempt returns, so with `overlap: skip` no further run
 *   starts; a `schedule_paused` notice goes to notify.onPause (else onFailure).
 * - `deadline: D`: an attempt still running D after its run's due time flags the run and sends
 *   `run_deadline_missed` (to notify.onDeadline, else onFailure), once per run whatever the attempts.
 * - `notify.onRecovery`: a completed run that ends a streak of `notify.after` or more failed runs
 *   sends `run_recovered`.
 * - Skipped slots (see slotsSkipped) are counted and recorded on the late run.
 * Nothing here decides a run's fate: a failure of the policy is logged, and the run goes on.
 */
export class FailurePolicy {
  private readonly states: ScheduleStates;
  private readonly deadlines = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: FailurePolicyOptions) {
    this.states = new ScheduleStates(options.db);
  }

  /** An attempt started (and is recorded): arms its deadline, and counts the slots skipped before it. */
  started(attempt: PolicyAttempt, schedule: Schedule | undefined): void {
    this.armDeadline(attempt, schedule);
    if (attempt.attempt === 1 && attempt.fromJobScheduler && schedule)
      void this.countSkipped(attempt, schedule).catch((error: unknown) =>
        this.warn(error, attempt, 'could not count the slots skipped before a late run'),
      );
  }

  /** A completed attempt (recorded): the run no longer has a deadline; a recovery notice when it ends a streak. */
  async completed(attempt: PolicyAttempt, schedule: Schedule | undefined): Promise<void> {
    this.disarm(attempt);
    const url = notifyUrlOf(schedule?.notify, 'run_recovered');
    if (!url || !schedule?.notify || !attempt.dueAt) return;
    try {
      const { after } = schedule.notify;
      const streak = await failedStreak(this.options.db, attempt.schedule, {
        cap: after,
        before: attempt.dueAt,
      });
      if (streak < after) return;
      void this.options.notifier.notify(url, {
        event: 'run_recovered',
        schedule: attempt.schedule,
        runId: attempt.runId,
        jobType: attempt.jobType,
        completedAt: new Date().toISOString(),
        failedBefore: streak,
      });
    } catch (error) {
      this.warn(error, attempt, 'could not tell whether a completed run ends a failing streak');
    }
  }

  /** A failed attempt (recorded): a final one may pause the schedule (pauseAfter). */
  async failed(attempt: PolicyAttempt, schedule: Schedule | undefined, final: boolean): Promise<void> {
    // A retry arms the deadline again for its own attempt (the run's notice is still sent once).
    this.disarm(attempt);
    const pauseAfter = schedule?.pauseAfter;
    if (!final || !pauseAfter) return;
    try {
      const streak = await failedStreak(this.options.db, attempt.schedule, {
        cap: pauseAfter,
        sinceResume: true,
      });
      if (streak < pauseAfter) return;
      const note = `paused after ${pauseAfter} failed run${pauseAfter === 1 ? '' : 's'} in a row`;
      const queue = this.options.queues.get(attempt.schedule);
      if (!(await pauseSchedule(this.states, queue, { note, by: POLICY_AUTHOR }))) return;
      this.options.log.warn(
        { schedule: attempt.schedule, runId: attempt.runId },
        `schedule ${attempt.schedule} ${note}`,
      );
      const url = notifyUrlOf(schedule.notify, 'schedule_paused');
      if (url)
        void this.options.notifier.notify(url, {
          event: 'schedule_paused',
          schedule: attempt.schedule,
          runId: attempt.runId,
          note,
          by: POLICY_AUTHOR,
          consecutiveFailures: streak,
          pausedAt: new Date().toISOString(),
        });
    } catch (error) {
      this.warn(error, attempt, 'could not apply pauseAfter');
    }
  }

  /** A cancelled attempt: its deadline timer goes with it. */
  cancelled(attempt: PolicyAttempt): void {
    this.disarm(attempt);
  }

  close(): void {
    for (const timer of this.deadlines.values()) clearTimeout(timer);
    this.deadlines.clear();
  }

  private armDeadline(attempt: PolicyAttempt, schedule: Schedule | undefined): void {
    const deadline = schedule?.deadline;
    if (deadline === undefined || !attempt.dueAt) return;
    const dueBy = attempt.dueAt.getTime() + deadline;
    const key = keyOf(attempt);
    const timer = setTimeout(
      () => {
        this.deadlines.delete(key);
        void this.deadlineMissed(attempt, schedule as Schedule, new Date(dueBy));
      },
      Math.max(0, dueBy - Date.now()),
    );
    timer.unref();
    this.deadlines.set(key, timer);
  }

  private disarm(attempt: PolicyAttempt): void {
    const key = keyOf(attempt);
    clearTimeout(this.deadlines.get(key));
    this.deadlines.delete(key);
  }

  private async deadlineMissed(attempt: PolicyAttempt, schedule: Schedule, dueBy: Date): Promise<void> {
    try {
      if (!(await markDeadlineMissed(this.options.db, attempt.schedule, attempt.runId))) return;
      const deadline = formatDuration(schedule.deadline ?? 0);
      this.options.log.warn(
        { schedule: attempt.schedule, runId: attempt.runId },
        `run ${attempt.runId} of ${attempt.schedule} is not finished ${deadline} after its due time`,
      );
      const url = notifyUrlOf(schedule.notify, 'run_deadline_missed');
      if (!url) return;
      void this.options.notifier.notify(url, {
        event: 'run_deadline_missed',
        schedule: attempt.schedule,
        runId: attempt.runId,
        jobType: attempt.jobType,
        attempt: attempt.attempt,
        deadline,
        dueAt: attempt.dueAt?.toISOString() ?? null,
        dueBy: dueBy.toISOString(),
        startedAt: attempt.startedAt.toISOString(),
      });
    } catch (error) {
      this.warn(error, attempt, 'could not flag a run past its deadline');
    }
  }

  /**
   * The slots a late run's job scheduler skipped, counted and recorded on the run. The rule: when
   * a job scheduler's run for slot S starts at T, BullMQ makes the schedule's next run for the
   * first slot after T (not S + every when that has passed already), so every slot between S and T
   * got no run of its own. Why: `paused` when the switch moved after S (or is paused as committed:
   * the resume that let it start is still in flight), so a pause held the run; `overlap` when the
   * run before it was still running at S (`overlap: skip` made it wait); else `late` (no worker
   * took it in time: none running, or all busy). With `catchup: last` or `all` the scheduler queues
   * catch-up runs for missed slots, so none are counted as skipped.
   */
  private async countSkipped(attempt: PolicyAttempt, schedule: Schedule): Promise<void> {
    const { trigger } = schedule;
    const slot = attempt.dueAt;
    if (!slot || !isClock(trigger) || schedule.catchup !== 'none') return;
    const range = { after: slot, until: new Date(attempt.startedAt.getTime() - 1), anchor: slot };
    const count = slotsBetween(trigger, range, MAX_SKIPPED).length;
    if (count === 0) return;
    const { db } = this.options;
    const [moved, before] = await Promise.all([
      switchMovedAt(db, attempt.schedule),
      runBefore(db, attempt.schedule, slot),
    ]);
    const reason: SkipReason =
      // Still paused as committed: the resume that let it start has not committed yet (the queue
      // resumes under the row lock, before the switch's transaction ends).
      moved && (moved.paused || moved.changedAt > slot)
        ? 'paused'
        : before && (before.finishedAt === null || before.finishedAt > slot)
          ? 'overlap'
          : 'late';
    await recordSkippedSlots(db, attempt.schedule, attempt.runId, { count, reason });
    this.options.onSlotsSkipped?.(attempt.schedule, reason, count);
  }

  private warn(error: unknown, attempt: PolicyAttempt, message: string): void {
    this.options.log.warn({ err: error, schedule: attempt.schedule, runId: attempt.runId }, message);
  }
}

const keyOf = (attempt: PolicyAttempt) => `${attempt.schedule}\u0000${attempt.runId}\u0000${attempt.attempt}`;
