import type { Queue } from 'bullmq';
import type { Logger } from '../log/logger';
import type { Schedule } from '../schedules/schedule';
import { fileToggle } from './file-toggle';
import type { ScheduleMemory } from './memory';
import type { QueueSet } from './queues';
import { matchesSpec, type SchedulerSpec, schedulerSpecOf } from './scheduler-spec';

export type ChangeKind = 'created' | 'updated' | 'restored' | 'removed' | 'paused' | 'resumed';

export interface Change {
  schedule: string;
  kind: ChangeKind;
}

/**
 * Brings BullMQ in line with the schedules, by difference: a job scheduler is upserted only when
 * it is new, changed or missing (a Redis flush, its pending job deleted by hand); schedules that
 * left the file are removed. Safe to run from several processes at once: every step is idempotent.
 */
export async function reconcile(
  schedules: Schedule[],
  queues: QueueSet,
  memory: ScheduleMemory,
  log: Logger,
): Promise<Change[]> {
  const changes: Change[] = [];
  for (const schedule of schedules) {
    // One schedule Redis refuses must not hold back the others; the next pass tries it again.
    try {
      changes.push(...(await reconcileOne(schedule, queues.get(schedule.name), memory)));
    } catch (error) {
      log.error({ err: error, schedule: schedule.name }, `could not reconcile schedule ${schedule.name}`);
    }
  }
  const wanted = new Set(schedules.map((s) => s.name));
  for (const name of await memory.names()) {
    if (wanted.has(name)) continue;
    await removeSchedule(queues.get(name), memory);
    await queues.drop(name);
    changes.push({ schedule: name, kind: 'removed' });
  }
  for (const change of changes) log.info(change, `schedule ${change.schedule} ${change.kind}`);
  return changes;
}

async function reconcileOne(schedule: Schedule, queue: Queue, memory: ScheduleMemory): Promise<Change[]> {
  const changes: Change[] = [];
  const remembered = await memory.fileEnabled(schedule.name);
  const toggle = fileToggle(schedule.enabled, remembered);
  // Pause before the upsert: a new `every` scheduler's first run is due at once.
  if (toggle === 'pause') {
    await queue.pause();
    changes.push({ schedule: schedule.name, kind: 'paused' });
  }
  await applyOverlap(queue, schedule);
  const spec = schedulerSpecOf(schedule);
  const upsert = await upsertNeeded(queue, schedule.name, spec, remembered !== undefined);
  if (upsert) {
    await queue.upsertJobScheduler(schedule.name, spec.repeat, spec.template);
    changes.push({ schedule: schedule.name, kind: upsert });
  }
  if (toggle === 'resume' && (await queue.isPaused())) {
    await queue.resume();
    changes.push({ schedule: schedule.name, kind: 'resumed' });
  }
  if (toggle) await memory.rememberFileEnabled(schedule.name, schedule.enabled);
  return changes;
}

async function upsertNeeded(
  queue: Queue,
  name: string,
  spec: SchedulerSpec,
  known: boolean,
): Promise<ChangeKind | undefined> {
  const existing = await queue.getJobScheduler(name);
  if (!existing) return known ? 'restored' : 'created';
  if (!matchesSpec(existing, spec)) return 'updated';
  // A scheduler only produces its next job when the current one starts; with no job left, it is stuck.
  const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
  const pending = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return pending === 0 ? 'restored' : undefined;
}

/** `skip` is BullMQ's global concurrency 1: at most one active run across every worker process. */
async function applyOverlap(queue: Queue, schedule: Schedule): Promise<void> {
  const limit = await queue.getGlobalConcurrency();
  if (schedule.overlap === 'skip' && limit !== 1) await queue.setGlobalConcurrency(1);
  if (schedule.overlap === 'allow' && limit !== null) await queue.removeGlobalConcurrency();
}

async function removeSchedule(queue: Queue, memory: ScheduleMemory): Promise<void> {
  await queue.removeJobScheduler(queue.name);
  // Also drop a run already waiting (or held by a pause); finished runs stay as history.
  await queue.drain(true);
  await memory.forget(queue.name);
}
