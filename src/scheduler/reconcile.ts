import type { JobSchedulerJson, Queue } from 'bullmq';
import { recordAudit } from '../db/audit-log';
import type { Queryable } from '../db/pool';
import { lastCoveredWindowEnds } from '../db/run-history';
import type { LockedState, ScheduleState, ScheduleStates } from '../db/schedule-states';
import { forgetLateArrivals } from '../db/watermarks';
import type { Logger } from '../log/logger';
import { switchAudit } from '../queues/pause';
import { type QueueState, queueStates } from '../queues/queue-states';
import type { QueueSet } from '../queues/queues';
import { scheduledAt } from '../queues/run-ids';
import {
  canonicalJson,
  jobTemplateOf,
  matchesSpec,
  type SchedulerSpec,
  schedulerSpecOf,
} from '../queues/scheduler-spec';
import type { JobRegistry } from '../runtime/job-registry';
import { type FileVersion, type Schedule, type SchedulesFile, timedByBullmq } from '../schedules/schedule';
import { specVersionOf } from '../schedules/spec-diff';
import { type CatchupDeps, catchUpAndResume, heldRunOf, missesAny } from './catchup';
import { fileToggle } from './file-toggle';
import { FILE_AUTHOR, recordSpecEdit, recordSpecRemoval } from './spec-audit';
import { advanceWindowed, isWindowed, LATE_DATA_DEBOUNCE_MS } from './watermark-runs';

export type ChangeKind =
  | 'created'
  | 'updated'
  | 'restored'
  | 'removed'
  | 'paused'
  | 'resumed'
  | 'caught-up'
  | 'released'
  | 'rerun';

export interface Change {
  schedule: string;
  kind: ChangeKind;
}

/** What a reconcile pass works with. */
export interface ReconcileDeps {
  /** The schedules' queues; the caller closes them. */
  queues: QueueSet;
  /** PostgreSQL's switches, which BullMQ follows. */
  states: ScheduleStates;
  /**
   * The run history, read once per pass (catch-up's covered windows) before any row lock is taken:
   * never while holding a lock's connection, so a pass never waits for the pool holding one.
   */
  db: Queryable;
  log: Logger;
  /** The job types, for what a windowed schedule's runs read (late data re-runs). */
  jobs: JobRegistry;
  /**
   * The schedules file (the Scheduler's source): its version, read as the pass starts, is what the
   * audit log keys an applied edit by. Absent: edits are recorded without it.
   */
  source?: { readonly current: Pick<SchedulesFile, 'version'> };
}

/**
 * Brings BullMQ in line with the schedules and with PostgreSQL's switches, by difference: a job
 * scheduler is upserted only when it is new, changed or missing (a Redis flush, its pending job
 * deleted by hand); a queue is paused or resumed only when it differs from schedule_state;
 * schedules that left the file are removed. Reads first: every schedule_state row in one query and
 * every queue's state in one script call per few hundred queues; only a schedule that is not in
 * line (see inLine) is then handled under its schedule_state row lock, in a transaction of its own.
 * So a pass over thousands of unchanged schedules is a handful of queries and no commit. Safe to
 * run from several processes at once: every change is made under the row lock, on what was read
 * under it, and every step is idempotent.
 */
export async function reconcile(schedules: Schedule[], deps: ReconcileDeps): Promise<Change[]> {
  const { queues, states, log } = deps;
  // Before any await: the version of the very file `schedules` come from.
  const file = deps.source?.current.version;
  const catchingUp = schedules.filter((s) => s.catchup !== 'none').map((s) => s.name);
  const coveredBeforeLock = await lastCoveredWindowEnds(deps.db, catchingUp);
  const rows = new Map((await states.all()).map((row) => [row.schedule, row]));
  const inRedis = await queueStates(
    queues.connection,
    schedules.map((schedule) => queues.get(schedule.name)),
  );
  const changes: Change[] = [];
  const now = new Date();
  for (const schedule of schedules) {
    const row = rows.get(schedule.name);
    if (inLine(schedule, row, inRedis.get(schedule.name), { coveredBeforeLock, now })) continue;
    // One schedule Redis refuses must not hold back the others; the next pass tries it again.
    try {
      const queue = queues.get(schedule.name);
      changes.push(
        ...(await states.locked(schedule.name, (state) =>
          reconcileOne(schedule, { queue, redis: queues.connection, db: state.db, log }, state, {
            coveredBeforeLock,
            schedules,
            jobs: deps.jobs,
            file,
          }),
        )),
      );
    } catch (error) {
      log.error({ err: error, schedule: schedule.name }, `could not reconcile schedule ${schedule.name}`);
    }
  }
  const wanted = new Set(schedules.map((s) => s.name));
  for (const row of rows.values()) {
    const name = row.schedule;
    if (wanted.has(name) || row.removedAt || !row.appliedAt) continue;
    try {
      await states.locked(name, async (state) => {
        await removeSchedule(queues.get(name), state);
        await recordSpecRemoval(name, state, file);
      });
      await queues.drop(name);
      changes.push({ schedule: name, kind: 'removed' });
    } catch (error) {
      log.error({ err: error, schedule: name }, `could not remove schedule ${name}`);
    }
  }
  await forgetOldLateArrivals(schedules, deps.db).catch((error: unknown) =>
    log.warn({ err: error }, 'could not forget old late arrivals; trying again at the next pass'),
  );
  for (const change of changes) log.info(change, `schedule ${change.schedule} ${change.kind}`);
  // Runs queued or let go (catch-up, windows, a resume, a new scheduler's first run) start now.
  await queues.announce(
    changes.filter((change) => change.kind !== 'removed').map((change) => change.schedule),
  );
  return changes;
}

/**
 * Whether what was read before any lock shows the schedule in line, so that the pass leaves it
 * alone: PostgreSQL applied this very spec (its version and the BullMQ spec), the file's `enabled:`
 * asks nothing, the queue's pause flag is PostgreSQL's switch, its global concurrency is the
 * overlap's, a clock schedule's job scheduler is there with a run pending and (when active) nothing
 * to catch up, an untimed one has no job scheduler left. Anything else, and every windowed schedule
 * (a pass releases its windows), goes through the locked path, which reads it all again under the
 * lock: a stale "not in line" costs a transaction, never a wrong change.
 */
function inLine(
  schedule: Schedule,
  row: ScheduleState | undefined,
  queue: QueueState | undefined,
  { coveredBeforeLock, now }: { coveredBeforeLock: ReadonlyMap<string, Date>; now: Date },
): boolean {
  if (!row?.appliedAt || row.removedAt || !queue || isWindowed(schedule)) return false;
  if (fileToggle(schedule.enabled, row.fileEnabled ?? undefined)) return false;
  if (row.paused !== queue.paused || (queue.concurrency === 1) !== (schedule.overlap === 'skip'))
    return false;
  if (queue.concurrency !== undefined && queue.concurrency !== 1) return false;
  const applied = appliedSpecsOf(schedule);
  if (row.specVersion !== applied.version || canonicalJson(row.spec) !== applied.bullmq) return false;
  if (!timedByBullmq(schedule)) return queue.next === undefined;
  if (queue.next === undefined || queue.pending === 0) return false;
  const held = new Date(queue.next);
  return (
    row.paused ||
    schedule.catchup === 'none' ||
    !missesAny(schedule, coveredBeforeLock.get(schedule.name), held, now)
  );
}

/** A schedule's spec version and its BullMQ spec as schedule_state records them, once per Schedule object. */
const appliedSpecs = new WeakMap<Schedule, { version: string; bullmq: string }>();

function appliedSpecsOf(schedule: Schedule): { version: string; bullmq: string } {
  let specs = appliedSpecs.get(schedule);
  if (!specs) {
    const spec = timedByBullmq(schedule) ? schedulerSpecOf(schedule) : untimedSpecOf(schedule);
    specs = { version: specVersionOf(schedule), bullmq: canonicalJson(spec) };
    appliedSpecs.set(schedule, specs);
  }
  return specs;
}

/** Late arrivals older than every windowed schedule's `rerunWithin` can re-run nothing: they go. */
async function forgetOldLateArrivals(schedules: Schedule[], db: Queryable): Promise<void> {
  const reach = Math.max(0, ...schedules.map((schedule) => schedule.watermark?.rerunWithin ?? 0));
  await forgetLateArrivals(db, new Date(Date.now() - reach - LATE_DATA_DEBOUNCE_MS));
}

/** What every schedule's pass reads once per reconcile pass. */
interface PassReads {
  coveredBeforeLock: ReadonlyMap<string, Date>;
  /** The whole file: a windowed schedule's watermark is another schedule's. */
  schedules: Schedule[];
  jobs: JobRegistry;
  file: FileVersion | undefined;
}

async function reconcileOne(
  schedule: Schedule,
  catchup: CatchupDeps,
  state: LockedState,
  reads: PassReads,
): Promise<Change[]> {
  const { queue } = catchup;
  const changes: Change[] = [];
  const change = (kind: ChangeKind) => changes.push({ schedule: schedule.name, kind });
  // The pass's one look at the job scheduler: adoption, the upsert check and catch-up share it.
  const existing = await queue.getJobScheduler(schedule.name);
  const adopted = state.row ? undefined : await adoptFromRedis(queue, existing, schedule, state);
  const fileEnabled = state.row?.fileEnabled ?? adopted?.fileEnabled;
  const toggle = fileToggle(schedule.enabled, fileEnabled ?? undefined);
  const paused = toggle ? toggle === 'pause' : (state.row?.paused ?? adopted?.paused ?? false);
  await recordSpecEdit(schedule, state, reads.file);
  if (toggle) {
    const note = schedule.enabled ? null : 'enabled: false in the schedules file';
    await state.setSwitch({ paused, note, changedBy: FILE_AUTHOR });
    // A new schedule that starts on is no switch moved; one that starts paused is worth a line.
    if (state.row || paused)
      await recordAudit(state.db, switchAudit(schedule.name, paused, { note, by: FILE_AUTHOR }));
  }
  // Pause before the upsert: a new `every` scheduler's first run is due at once.
  if (paused && !(await queue.isPaused())) {
    await queue.pause();
    change('paused');
  }
  await applyOverlap(queue, schedule);
  if (!timedByBullmq(schedule)) {
    changes.push(...(await reconcileUntimed(schedule, catchup, { existing, paused, reads })));
    if (toggle || !state.row || state.row.removedAt)
      await state.setApplied({ fileEnabled: schedule.enabled, spec: untimedSpecOf(schedule) });
    return changes;
  }
  const { coveredBeforeLock } = reads;
  const spec = schedulerSpecOf(schedule);
  const known = state.row !== undefined || adopted !== undefined;
  const upsert = await upsertNeeded(queue, existing, spec, known);
  let held = heldRunOf(existing);
  if (upsert) {
    // The job the new scheduler holds names its slot (see scheduledAt).
    const first = await queue.upsertJobScheduler(schedule.name, spec.repeat, spec.template);
    held = first ? scheduledAt(first) : undefined;
    change(upsert);
  }
  if (!paused) {
    const { caughtUp, resumed } = await catchUpAndResume(schedule, catchup, { held, coveredBeforeLock });
    if (caughtUp.length) change('caught-up');
    if (resumed) change('resumed');
  }
  if (upsert || toggle || !state.row || state.row.removedAt)
    await state.setApplied({ fileEnabled: schedule.enabled, spec });
  return changes;
}

/**
 * A schedule no job scheduler times: one waiting for a watermark (its windows are registered,
 * released and re-run here, see advanceWindowed) or one that runs after another (the worker that
 * completes the other's run queues it). A job scheduler left from an earlier version of the file goes.
 */
async function reconcileUntimed(
  schedule: Schedule,
  using: CatchupDeps,
  { existing, paused, reads }: { existing: JobSchedulerJson | undefined; paused: boolean; reads: PassReads },
): Promise<Change[]> {
  const { queue } = using;
  const changes: Change[] = [];
  const change = (kind: ChangeKind) => changes.push({ schedule: schedule.name, kind });
  if (existing) {
    await queue.removeJobScheduler(schedule.name);
    change('updated');
  }
  if (isWindowed(schedule)) {
    const upstream = reads.schedules.find((s) => s.name === schedule.watermark.of);
    const pass = await advanceWindowed(schedule, { ...using, upstream, jobs: reads.jobs }, { paused });
    if (pass.released.length) change('released');
    if (pass.rerun.length) change('rerun');
  }
  if (!paused && (await queue.isPaused())) {
    await queue.resume();
    change('resumed');
  }
  return changes;
}

/** What schedule_state records as applied for a schedule no job scheduler times. */
const untimedSpecOf = (schedule: Schedule) => ({
  trigger: schedule.trigger,
  watermark: schedule.watermark ?? null,
  template: jobTemplateOf(schedule),
});

/**
 * A schedule BullMQ already runs but PostgreSQL has never seen (set up before schedule_state
 * existed): its queue's pause flag is the person's switch, and the file's `enabled:` is taken as
 * applied, so the first pass changes nothing that was running.
 */
async function adoptFromRedis(
  queue: Queue,
  existing: JobSchedulerJson | undefined,
  schedule: Schedule,
  state: LockedState,
): Promise<{ paused: boolean; fileEnabled: boolean } | undefined> {
  if (!existing) return undefined;
  const paused = await queue.isPaused();
  await state.setSwitch({ paused, note: null, changedBy: 'redis (before schedule_state)' });
  return { paused, fileEnabled: schedule.enabled };
}

async function upsertNeeded(
  queue: Queue,
  existing: JobSchedulerJson | undefined,
  spec: SchedulerSpec,
  known: boolean,
): Promise<ChangeKind | undefined> {
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

/** The row stays (removed_at set), so a schedule added back keeps a person's pause. */
async function removeSchedule(queue: Queue, state: LockedState): Promise<void> {
  await queue.removeJobScheduler(queue.name);
  // Also drop a run already waiting (or held by a pause); finished runs stay as history.
  await queue.drain(true);
  await state.setRemoved();
}
