import { rerunsOf } from '../db/run-actions';
import { findRun, pageOfRuns, type StoredRun } from '../db/run-history';
import { runSpecOf } from './audit';
import type { Control } from './control';
import { InvalidInputError, NotFoundError } from './errors';
import { requireSchedule } from './schedules';
import type { RunDetail, RunPage, RunState } from './views';

export interface RunQuery {
  limit: number;
  states?: RunState[];
  /** The `next` of the previous page. */
  before?: string;
}

/** A page of a schedule's runs, newest first: `tickflow runs` and `GET .../runs`. */
export async function listRuns(control: Control, name: string, query: RunQuery): Promise<RunPage> {
  const before = query.before === undefined ? undefined : decodeCursor(query.before);
  const rows = await pageOfRuns(control.db, name, {
    limit: query.limit + 1,
    ...(query.states ? { states: query.states } : {}),
    ...(before ? { before } : {}),
  });
  // Only an empty page asks whether the schedule exists (an unknown name is a 404, not "no runs").
  if (rows.length === 0) await requireSchedule(control, name, { removedToo: true });
  const runs = rows.slice(0, query.limit);
  const last = runs.at(-1);
  return { runs, next: rows.length > query.limit && last ? encodeCursor(last.dueAt, last.runId) : null };
}

/** The run as the history has it; an unknown run (or schedule) is a NotFoundError naming it. */
export async function storedRun(control: Control, name: string, runId: string): Promise<StoredRun> {
  const stored = await findRun(control.db, name, runId);
  if (stored) return stored;
  await requireSchedule(control, name, { removedToo: true });
  throw new NotFoundError(`schedule "${name}" has no run "${runId}" (see \`tickflow runs ${name}\`)`);
}

/** One run with its params, result, error, attempts and log lines. */
export async function getRun(control: Control, name: string, runId: string): Promise<RunDetail> {
  const stored = await storedRun(control, name, runId);
  const queue = control.queues.get(name);
  const [job, reruns, spec] = await Promise.all([
    queue.getJob(runId),
    rerunsOf(control.db, name, runId),
    runSpecOf(control.db, stored.summary),
  ]);
  // Redis's copy has every line of every attempt while it keeps the job; job_runs keeps the rest.
  const logs = job
    ? (await queue.getJobLogs(runId, 0, -1)).logs
    : stored.attempts.flatMap((attempt) => attempt.logs);
  return {
    ...stored.summary,
    params: stored.params,
    result: stored.result,
    attemptList: stored.attempts,
    logs,
    boardUrl:
      job && control.boardPath
        ? `${control.boardPath}/queue/${encodeURIComponent(name)}/${encodeURIComponent(runId)}`
        : null,
    reruns,
    spec,
  };
}

const encodeCursor = (dueAt: string, runId: string) =>
  Buffer.from(JSON.stringify([dueAt, runId])).toString('base64url');

function decodeCursor(cursor: string): { dueAt: Date; runId: string } {
  try {
    const [dueAt, runId] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const date = new Date(dueAt);
    if (typeof runId !== 'string' || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { dueAt: date, runId };
  } catch {
    throw new InvalidInputError('bad page cursor', [
      { field: 'before', message: 'expected the `next` value of a previous page' },
    ]);
  }
}
