import type { Queue } from 'bullmq';
import { type AuditEntry, recordAudit } from '../db/audit-log';
import type { LockedState, ScheduleStates } from '../db/schedule-states';

/**
 * The one pause of a schedule, whoever asks: a person (control/toggle.ts: CLI, API, grid, Bull
 * Board), the file's `enabled: false` (the scheduler's reconcile) or the failure policy's pauseAfter
 * (the worker). Here, in src/queues/, because the worker may not import the scheduler nor the
 * control plane above it.
 */

export interface SwitchChange {
  /** Why, shown next to the switch. */
  note: string | null;
  /** Who: `cli:<user>`, `api:<user>`, `bull-board:<user>`, `schedules.yaml`, `tickflow`. */
  by: string;
}

/** The audit entry of a switch moved: `paused: <note>`, `resumed`. */
export function switchAudit(schedule: string, paused: boolean, change: SwitchChange): AuditEntry {
  const verb = paused ? 'paused' : 'resumed';
  return {
    by: change.by,
    action: paused ? 'pause' : 'resume',
    schedule,
    // "paused after 3 failed runs in a row" says it already; "paused: deploying" needs the verb.
    what: !change.note ? verb : change.note.startsWith(verb) ? change.note : `${verb}: ${change.note}`,
    ...(change.note ? { detail: { note: change.note } } : {}),
  };
}

/**
 * Pauses under the schedule's row lock (`state`): the queue, PostgreSQL's switch and the audit
 * entry, committed together with the lock's transaction. While paused, the one due run waits in
 * the queue and no more are made.
 */
export async function pauseLocked(state: LockedState, queue: Queue, change: SwitchChange): Promise<void> {
  await queue.pause();
  await state.setSwitch({ paused: true, note: change.note, changedBy: change.by });
  await recordAudit(state.db, switchAudit(queue.name, true, change));
}

/**
 * Pauses a schedule the scheduler set up, unless it is paused already (a person's note stays);
 * true when this call paused it.
 */
export async function pauseSchedule(
  states: ScheduleStates,
  queue: Queue,
  change: SwitchChange,
): Promise<boolean> {
  return states.locked(queue.name, async (state) => {
    if (!state.row || state.row.removedAt || state.row.paused) return false;
    await pauseLocked(state, queue, change);
    return true;
  });
}
