import type { Queue } from 'bullmq';
import type { ScheduleMemory } from './memory';

/**
 * A person's pause or resume (CLI, UI): the queue's pause flag is the schedule's switch. While
 * paused, the one due run waits in the queue and the scheduler produces no more (it only makes
 * the next job when one starts), so resuming runs at most one late run, never a burst.
 */
export async function toggleSchedule(
  queue: Queue,
  memory: ScheduleMemory,
  paused: boolean,
  note?: string,
): Promise<void> {
  if (paused) await queue.pause();
  else await queue.resume();
  await memory.recordToggle(queue.name, {
    paused,
    ...(note ? { note } : {}),
    at: new Date().toISOString(),
  });
}
