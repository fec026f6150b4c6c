import type { RunWindow } from '../runtime/job';
import { cronFrom } from './cron';
import type { Clock } from './schedule';

/**
 * Logical time: the windows of event time a schedule's runs cover. A slot is a time the schedule
 * fires; the window of a slot is [the slot before it, the slot), so consecutive runs cover time
 * without gaps or overlaps (Airflow's data interval).
 */

/** The window that ends at `to` on this cadence: `every: X` → [to − X, to); cron → [previous fire, to). */
export function windowEndingAt(trigger: Clock, to: Date): RunWindow {
  if ('every' in trigger) return { from: new Date(to.getTime() - trigger.every), to };
  const previous = cronFrom(trigger, to).prev();
  return { from: new Date(previous.getTime()), to };
}

/** The time between the cadence's next two slots after `now`: X for `every: X`, else the next two fire times'. */
export function slotGapMs(trigger: Clock, now: Date): number {
  if ('every' in trigger) return trigger.every;
  const cron = cronFrom(trigger, now);
  const first = cron.next().getTime();
  return cron.next().getTime() - first;
}

/**
 * The slots in (after, until], oldest first, at most `max` (the newest ones when there are more).
 * `every` slots lie on the grid of `anchor` (a slot the job scheduler made), so they match the
 * slots BullMQ itself fires; cron slots are the expression's fire times.
 */
export function slotsBetween(
  trigger: Clock,
  range: { after: Date; until: Date; anchor: Date },
  max: number,
): Date[] {
  const { after, until, anchor } = range;
  if (until <= after || max <= 0) return [];
  const slots: Date[] = [];
  if ('every' in trigger) {
    const step = trigger.every;
    const last = anchor.getTime() + Math.floor((until.getTime() - anchor.getTime()) / step) * step;
    for (let slot = last; slot > after.getTime() && slots.length < max; slot -= step) {
      slots.push(new Date(slot));
    }
    return slots.reverse();
  }
  // Newest first from just past `until` (prev() is strictly before its start), so a cap keeps the newest.
  const cron = cronFrom(trigger, new Date(until.getTime() + 1));
  while (slots.length < max) {
    const slot = new Date(cron.prev().getTime());
    if (slot <= after) break;
    slots.push(slot);
  }
  return slots.reverse();
}

/**
 * The whole windows of the cadence inside [from, to), oldest first, at most `max` (a caller that
 * wants to know about more asks for one over its limit). `every: X` windows start at `from` and
 * last X each; cron windows run between consecutive fire times within [from, to].
 */
export function windowsWithin(trigger: Clock, from: Date, to: Date, max: number): RunWindow[] {
  const windows: RunWindow[] = [];
  if ('every' in trigger) {
    for (let start = from.getTime(); start + trigger.every <= to.getTime() && windows.length < max; ) {
      const end = start + trigger.every;
      windows.push({ from: new Date(start), to: new Date(end) });
      start = end;
    }
    return windows;
  }
  // next() is strictly after its start: begin just before `from` so that a fire at `from` counts.
  const cron = cronFrom(trigger, new Date(from.getTime() - 1));
  let start = new Date(cron.next().getTime());
  while (windows.length < max) {
    const end = new Date(cron.next().getTime());
    if (end > to) break;
    windows.push({ from: start, to: end });
    start = end;
  }
  return windows;
}
