import type { Control } from './control';

/** A queued run whose job is gone from Redis this long is taken as dropped (not merely being picked up). */
const GRACE_MS = 10_000;

/**
 * Manual runs dropped before they ran (Bull Board's clean or empty, a schedule removed from the
 * file, a Redis flush) would stay `queued` in the history for ever: close them as failed, saying
 * why. Bounded by the runs_by_state index; cheap enough to run every few seconds.
 */
export async function closeDroppedRuns(control: Control, graceMs = GRACE_MS): Promise<number> {
  const { rows } = await control.db.query<{ schedule: string; runId: string }>(
    `select schedule, run_id as "runId" from runs
      where state = 'queued' and due_at < now() - make_interval(secs => $1 / 1000.0)
      order by due_at limit 100`,
    [graceMs],
  );
  let closed = 0;
  for (const { schedule, runId } of rows) {
    if (await control.queues.get(schedule).getJob(runId)) continue;
    const { rowCount } = await control.db.query(
      `update runs set state = 'failed', finished_at = now(),
              error = 'dropped before it ran: its job left Redis (cleaned, emptied, schedule removed or Redis flushed)'
        where schedule = $1 and run_id = $2 and state = 'queued'`,
      [schedule, runId],
    );
    closed += rowCount ?? 0;
  }
  return closed;
}
