import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { windowHistories, windowKey } from '../db/run-history';
import { queueWindowRuns } from '../queues/window-runs';
import type { RunWindow } from '../runtime/job';
import { describeTrigger, isClock, type Schedule } from '../schedules/schedule';
import { windowsWithin } from '../schedules/window';
import { recordChange } from './changes';
import type { Control } from './control';
import { InvalidInputError, ReadOnlyError } from './errors';
import { scheduleInFile } from './trigger';
import type { BackfillView, Reprocess, RunState } from './views';

/** At most this many runs per backfill: a wider range is split by the caller. */
export const MAX_BACKFILL_WINDOWS = 1_000;

const ISO_HINT = 'expected an ISO 8601 time with a zone, e.g. 2024-03-01T10:00:00Z';

/** A backfill bound as the CLI and the API take it: an ISO 8601 time with its zone. */
export const isoTime = z
  .string({ error: ISO_HINT })
  .pipe(z.iso.datetime({ offset: true, error: ISO_HINT }))
  .transform((text) => new Date(text));

export interface BackfillRequest {
  from: Date;
  to: Date;
  by: string;
  /** List the windows (and those `reprocess` skips), queue nothing. */
  dryRun?: boolean;
  /** Which windows get a run (default all); see pickWindows. */
  reprocess?: Reprocess;
}

/**
 * Queues one run per window of the schedule's cadence inside [from, to) (Airflow's `dags
 * backfill`), oldest first, with the file's params; each run's window (ctx.window) is its own.
 * `reprocess` narrows the windows by what PostgreSQL has for them. The runs share the schedule's
 * queue, so they obey its overlap policy (`skip`: one at a time, never beside a scheduled run),
 * retries and timeout, and wait while it is paused; they go behind its live runs (see
 * queueWindowRuns), so a long backfill delays a live run by one backfill run at most. The batch
 * (the last part of the run ids) is the backfill's id, what cancelBackfill takes.
 */
export async function backfill(
  control: Control,
  name: string,
  request: BackfillRequest,
): Promise<BackfillView> {
  if (control.readOnly) throw new ReadOnlyError();
  const schedule = scheduleInFile(control, name);
  const reprocess = request.reprocess ?? 'all';
  const { run, skipped } = await pickWindows(control, name, windowsToRun(schedule, request), reprocess);
  const queue = control.queues.get(name);
  let id: string | null = null;
  let runs: { runId: string | null; window: RunWindow }[] = run.map((window) => ({ runId: null, window }));
  if (!request.dryRun && run.length > 0) {
    id = randomUUID().slice(0, 8);
    runs = await queueWindowRuns(queue, control.db, schedule, {
      kind: 'backfill',
      windows: run,
      batch: id,
      by: request.by,
    });
    await control.queues.announce([name]);
    await recordChange(control.db, {
      by: request.by,
      action: 'backfill',
      schedule: name,
      what: `backfill ${id}: ${run.length} run${run.length === 1 ? '' : 's'} for [${request.from.toISOString()}, ${request.to.toISOString()}) (reprocess ${reprocess})`,
      detail: {
        id,
        from: request.from.toISOString(),
        to: request.to.toISOString(),
        reprocess,
        runs: run.length,
        skipped: skipped.length,
      },
    });
  }
  return {
    schedule: name,
    id,
    dryRun: request.dryRun ?? false,
    reprocess,
    runs: runs.map(({ runId, window }) => ({ runId, window: windowView(window) })),
    skipped: skipped.map(({ window, latest }) => ({ window: windowView(window), latest })),
    waitsForResume: await queue.isPaused(),
  };
}

const windowView = (window: RunWindow) => ({ from: window.from.toISOString(), to: window.to.toISOString() });

/**
 * The windows to run, by what the schedule's runs of each window say (any run of exactly that
 * window, whatever made it): all of them; `failed`, those whose latest run failed or was cancelled;
 * `missing`, those with no completed run (never run included). The rest are skipped, with the
 * state of their latest run.
 */
async function pickWindows(
  control: Control,
  name: string,
  windows: RunWindow[],
  reprocess: Reprocess,
): Promise<{ run: RunWindow[]; skipped: { window: RunWindow; latest: RunState | null }[] }> {
  if (reprocess === 'all') return { run: windows, skipped: [] };
  const histories = await windowHistories(control.db, name, windows);
  const run: RunWindow[] = [];
  const skipped: { window: RunWindow; latest: RunState | null }[] = [];
  for (const window of windows) {
    const history = histories.get(windowKey(window));
    const wanted =
      reprocess === 'failed'
        ? history?.latest === 'failed' || history?.latest === 'cancelled'
        : !history?.completed;
    if (wanted) run.push(window);
    else skipped.push({ window, latest: history?.latest ?? null });
  }
  return { run, skipped };
}

/** The windows, or why there are none to run: a range backwards, too short, or too wide. */
function windowsToRun(schedule: Schedule, { from, to }: BackfillRequest): RunWindow[] {
  const refuse = (message: string) => new InvalidInputError('cannot backfill', [{ field: 'to', message }]);
  if (from >= to) throw refuse(`must be after from (${from.toISOString()})`);
  const { trigger } = schedule;
  if (!isClock(trigger)) {
    throw new InvalidInputError('cannot backfill', [
      {
        field: 'schedule',
        message: `${schedule.name} runs ${describeTrigger(trigger)}, with no windows of its own; backfill ${trigger.after} instead`,
      },
    ]);
  }
  const cadence = describeTrigger(trigger);
  const windows = windowsWithin(trigger, from, to, MAX_BACKFILL_WINDOWS + 1);
  if (windows.length === 0) throw refuse(`[from, to) holds no whole window of ${cadence}; widen the range`);
  if (windows.length > MAX_BACKFILL_WINDOWS) {
    throw refuse(
      `[from, to) holds more than ${MAX_BACKFILL_WINDOWS} windows of ${cadence}; backfill at most ${MAX_BACKFILL_WINDOWS} at a time (split the range)`,
    );
  }
  return windows;
}
