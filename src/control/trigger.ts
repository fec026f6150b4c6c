import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { queuedManualRuns } from '../db/manual-runs';
import { type QueuedRun, recordQueuedRuns } from '../db/run-history';
import { isUnreachable } from '../health/unreachable';
import { MANUAL_RUN_PREFIX } from '../queues/run-ids';
import { jobTemplateOf } from '../queues/scheduler-spec';
import { JobParamsError, type JobRegistry } from '../runtime/job-registry';
import type { Schedule } from '../schedules/schedule';
import { recordChange } from './changes';
import type { Control } from './control';
import {
  type InputIssue,
  InvalidInputError,
  ReadOnlyError,
  TooManyRunsError,
  unknownSchedule,
} from './errors';
import type { TriggeredRun } from './views';

export interface TriggerRequest {
  /** Params over the schedule's own: only those it lets a caller override, then checked by the job's schema. */
  params?: Record<string, unknown>;
  /** `<where>:<user>` (api:ops, cli:ops): recorded with the run; the user is who the per-caller limit counts. */
  by: string;
}

/** At most this many manual runs of one schedule queued per caller, unless the Control says otherwise. */
export const MANUAL_RUNS_QUEUED_MAX = 20;

/**
 * Runs a schedule's job now (Airflow's `dags trigger --conf`): the file's current params with the
 * overrides on top. A request changes only what the file allows: each override must be a param the
 * schedule lets a caller override (see overridableParams), then the whole is validated by the job's
 * schema. A caller may have at most `manualRunsQueuedMax` runs of the schedule queued. The run obeys
 * the schedule's overlap, retries and timeout, and waits while the schedule is paused. Every manual
 * run comes through here: the API, the grid, Bull Board's "Run now" and "Add job", the CLI.
 */
export async function triggerRun(
  control: Control,
  name: string,
  request: TriggerRequest,
): Promise<TriggeredRun> {
  if (control.readOnly) throw new ReadOnlyError();
  const schedule = scheduleInFile(control, name);
  const params = checkedParams(control.jobs, schedule, request.params ?? {});
  const caller = request.by.slice(request.by.indexOf(':') + 1);
  return oneAtATime(`${name}\0${caller}`, async () => {
    await checkQueuedLimit(control, name, caller);
    return queueRun(control, schedule, params, request.by);
  });
}

async function queueRun(
  control: Control,
  schedule: Schedule,
  params: Record<string, unknown>,
  by: string,
): Promise<TriggeredRun> {
  const name = schedule.name;
  const template = jobTemplateOf(schedule);
  const queue = control.queues.get(name);
  const job = await queue.add(template.name, params, {
    ...template.opts,
    jobId: `${MANUAL_RUN_PREFIX}${randomUUID()}`,
  });
  await control.queues.announce([name]);
  const runId = String(job.id);
  // After the add: a worker may already have recorded the run, and only who triggered it is ours to
  // add. The run is queued either way: PostgreSQL being away must not make a caller trigger it twice
  // (the worker records the run when it starts, without the name of who triggered it).
  const queued: QueuedRun = {
    runId,
    jobType: schedule.job,
    trigger: 'manual',
    triggeredBy: by,
    params,
    dueAt: new Date(job.timestamp),
  };
  await recordQueuedRuns(control.db, name, [queued]).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
  await recordChange(control.db, {
    by,
    action: 'trigger',
    schedule: name,
    runId,
    what: `triggered run ${runId}`,
    detail: { params },
  });
  return { schedule: name, runId, params, waitsForResume: await queue.isPaused() };
}

/** The schedule as the current file has it; a name not in it is a NotFoundError listing those that are. */
export function scheduleInFile(control: Control, name: string): Schedule {
  const schedules = control.file().current?.schedules ?? [];
  const schedule = schedules.find((s) => s.name === name);
  if (!schedule)
    throw unknownSchedule(
      name,
      schedules.map((s) => s.name),
    );
  return schedule;
}

/**
 * The params a caller may override in a trigger of `schedule`, by top-level name (a nested param
 * such as predictor.url counts as predictor): the schedule's `overridable:` when the file lists
 * them, else its job type's harmless ones. Destinations (URLs, topics, groups) only when listed.
 */
export function overridableParams(jobs: JobRegistry, schedule: Schedule): readonly string[] {
  return schedule.overridable ?? jobs.overridableOf(schedule.job);
}

/**
 * The schedule's params with the overrides on top. An override of a param the schedule does not let
 * a caller override is refused, naming it and the fix, unless its value is the file's own (it changes
 * nothing); an unknown name is left to the job's schema, which reports it with any other issue.
 */
function checkedParams(
  jobs: JobRegistry,
  schedule: Schedule,
  overrides: Record<string, unknown>,
): Record<string, unknown> {
  const allowed = overridableParams(jobs, schedule);
  const params = jobs.paramNames(schedule.job);
  const refused: InputIssue[] = [];
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) {
    const top = key.split('.')[0] ?? key;
    const unchanged = isDeepStrictEqual(value, schedule.params[key]);
    if (params.includes(top) && !allowed.includes(top) && !unchanged) {
      refused.push({ field: key, message: notOverridable(schedule, top, allowed) });
    } else {
      kept[key] = value;
    }
  }
  try {
    const checked = jobs.resolve(schedule.job, { ...schedule.params, ...kept }).params;
    if (refused.length) throw new InvalidInputError(refusedMessage(schedule), refused);
    return checked;
  } catch (error) {
    if (error instanceof JobParamsError)
      throw new InvalidInputError(
        refused.length ? refusedMessage(schedule) : `params do not fit job ${schedule.job}`,
        [...refused, ...error.issues],
      );
    throw error;
  }
}

const refusedMessage = (schedule: Schedule) => `params a trigger of ${schedule.name} may not change`;

function notOverridable(schedule: Schedule, param: string, allowed: readonly string[]): string {
  const whose = schedule.overridable
    ? `schedule ${schedule.name}'s overridable`
    : `job ${schedule.job}'s defaults`;
  return (
    `not overridable in a trigger of ${schedule.name} (may override: ${allowed.join(', ') || 'nothing'}, ${whose}); ` +
    `to allow it, list it in schedules.yaml: ${schedule.name}: { overridable: [${[...allowed, param].join(', ')}] }`
  );
}

/** 429 once `caller` has `manualRunsQueuedMax` runs of the schedule queued and not started. */
async function checkQueuedLimit(control: Control, name: string, caller: string): Promise<void> {
  const max = control.manualRunsQueuedMax ?? MANUAL_RUNS_QUEUED_MAX;
  // PostgreSQL away: the run is still queued (see queueRun); only the limit goes unchecked.
  const queued = await queuedManualRuns(control.db, name, caller).catch((error: unknown) => {
    if (isUnreachable(error)) return 0;
    throw error;
  });
  if (queued >= max)
    throw new TooManyRunsError(
      `${caller} has ${queued} manual runs of ${name} queued, the most allowed (MANUAL_RUNS_QUEUED_MAX=${max}): ` +
        'wait for them to start, or cancel some',
    );
}

/** Triggers by one caller of one schedule, one after another in this process: a burst cannot pass the limit together. */
const inFlight = new Map<string, Promise<unknown>>();

async function oneAtATime<T>(key: string, work: () => Promise<T>): Promise<T> {
  const before = inFlight.get(key) ?? Promise.resolve();
  const mine = before.catch(() => {}).then(work);
  inFlight.set(key, mine);
  try {
    return await mine;
  } finally {
    if (inFlight.get(key) === mine) inFlight.delete(key);
  }
}
