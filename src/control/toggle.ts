import { recordAudit } from '../db/audit-log';
import { pauseLocked, switchAudit } from '../queues/pause';
import { catchUpAndResume, heldRunOf } from '../scheduler/catchup';
import type { Control } from './control';
import { NotFoundError, ReadOnlyError } from './errors';
import { getSchedule, requireSchedule } from './schedules';
import type { ScheduleView } from './views';

export interface ToggleRequest {
  paused: boolean;
  /** Why, shown next to the switch (`tickflow pause --note`, the grid's note field). */
  note?: string;
  /** Who: `cli:<user>`, `api:<user>`, `bull-board:<user>`. */
  by: string;
}

/**
 * A person's switch (CLI, API, grid, Bull Board), written to PostgreSQL first and applied to the
 * queue under the same row lock, so a reconcile pass never sees half of it. While paused, the one
 * due run waits in the queue and no more are made, so a resume runs at most one late run.
 */
export async function setPaused(
  control: Control,
  name: string,
  request: ToggleRequest,
): Promise<ScheduleView> {
  if (control.readOnly) throw new ReadOnlyError();
  await requireSchedule(control, name);
  await control.states.locked(name, async (state) => {
    if (!state.row || state.row.removedAt) throw notSetUp(name);
    const queue = control.queues.get(name);
    const change = { note: request.note ?? null, by: request.by };
    // The one pause (queues/pause.ts): the switch and its audit entry commit with the row lock.
    if (request.paused) return pauseLocked(state, queue, change);
    const schedule = control.file().current?.schedules.find((s) => s.name === name);
    const held = heldRunOf(await queue.getJobScheduler(name));
    await catchUpAndResume(schedule, { queue, redis: control.queues.connection, db: state.db }, { held });
    await state.setSwitch({ paused: false, note: change.note, changedBy: change.by });
    await recordAudit(state.db, switchAudit(name, false, change));
  });
  // Committed: the held run (and any caught up) may start now, on any worker process.
  if (!request.paused) await control.queues.announce([name]);
  return getSchedule(control, name);
}

const notSetUp = (name: string) =>
  new NotFoundError(
    `schedule "${name}" is in the schedules file but not set up (or being removed): start \`tickflow scheduler\` and try again`,
  );
