import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { queueWindowRuns } from '../queues/window-runs';
import type { RunWindow } from '../runtime/job';
import { describeTrigger, isClock, type Schedule } from '../schedules/schedule';
import { windowsWithin } from '../schedules/window';
import type { Control } from './control';
import { InvalidInputError, ReadOnlyError } from './errors';
import { scheduleInFile } from './trigger';
import type { BackfillView } from './views';

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
}

/**
 * Queues one run per window of the schedule's cadence inside [from, to) (Airflow's `dags
 * backfill`), oldest first, with the file's params; each run's window (ctx.window) is its own.
 * The runs share the schedule's queue, so they obey its overlap policy (`skip`: one at a time,
 * never beside a scheduled run), retries and timeout, and wait while it is paused.
 */
export async function backfill(
  control: Control,
  name: string,
  request: BackfillRequest,
): Promise<BackfillView> {
  if (control.readOnly) throw new ReadOnlyError();
  const schedule = scheduleInFile(control, name);
  const windows = windowsToRun(schedule, request);
  const queue = control.queues.get(name);
  const runs = await queueWindowRuns(queue, control.db, schedule, {
    kind: 'backfill',
    windows,
    batch: randomUUID().slice(0, 8),
    by: request.by,
  });
  return {
    schedule: name,
    runs: runs.map(({ runId, window }) => ({
      runId,
      window: { from: window.from.toISOString(), to: window.to.toISOString() },
    })),
    waitsForResume: await queue.isPaused(),
  };
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
