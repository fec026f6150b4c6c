import type { ClockSchedule } from '../schedules/schedule';
import { slotsBetween } from '../schedules/window';

/** At most this many catch-up runs per pass: a schedule off for long must not flood its queue. */
export const MAX_CATCHUP_RUNS = 1_000;

export interface CatchupInput {
  schedule: Pick<ClockSchedule, 'trigger' | 'catchup' | 'catchupWindow'>;
  /** The end of the newest window the schedule's own runs covered (or queued). */
  covered: Date;
  /** The due time of the job the job scheduler holds (its next run), if it has one. */
  held: Date | undefined;
  now: Date;
}

export interface CatchupPlan {
  /** Slots (window ends) to run as catch-up runs, oldest first. */
  slots: Date[];
  /** The held job is a stale window older than the one `last` runs instead: drop it. */
  dropHeld: boolean;
}

const NOTHING: CatchupPlan = { slots: [], dropHeld: false };

/**
 * Which missed windows to run. BullMQ's job scheduler keeps one job: after a pause or downtime
 * that job runs late for its own (oldest missed) window and the scheduler then skips to the next
 * slot after now, so the slots between are lost. Missed slots are those after `covered` up to
 * now, other than the held job's own:
 * - none: nothing more (the held run alone, as before catch-up existed);
 * - all: one run per missed slot within `catchupWindow` of now (the held run stays, being oldest);
 * - last: one run for the latest slot; a held run older than it is dropped, so exactly one runs.
 */
export function planCatchup({ schedule, covered, held, now }: CatchupInput): CatchupPlan {
  const { trigger, catchup, catchupWindow } = schedule;
  if (catchup === 'none') return NOTHING;
  const anchor = held ?? covered;
  const isHeld = (slot: Date) => held !== undefined && slot.getTime() === held.getTime();
  if (catchup === 'all') {
    const after = new Date(Math.max(covered.getTime(), now.getTime() - catchupWindow));
    const slots = slotsBetween(trigger, { after, until: now, anchor }, MAX_CATCHUP_RUNS + 1);
    return { slots: slots.filter((slot) => !isHeld(slot)).slice(-MAX_CATCHUP_RUNS), dropHeld: false };
  }
  const [latest] = slotsBetween(trigger, { after: covered, until: now, anchor }, 1);
  if (!latest || isHeld(latest)) return NOTHING;
  return { slots: [latest], dropHeld: held !== undefined && held < latest };
}
