import { historyOutboxKey, jobsInRedis } from '../queues/queues';
import { runIdPrefix } from '../queues/run-ids';
import type { Control } from './control';

/** A queued run whose job is gone from Redis this long is taken as dropped (not merely being picked up). */
const GRACE_MS = 10_000;
/**
 * Queued runs looked at per sweep, oldest first. Large enough that a backfill's legitimately waiting
 * runs (up to 1,000 per request) do not hide newer dropped ones; one Redis round trip checks them all.
 */
const BATCH = 5_000;

/**
 * Runs dropped before they ran (Bull Board's clean or empty, a schedule removed from the file, a
 * Redis flush) would stay `queued` in the history for ever: close them as failed, saying why. Read by
 * the partial runs_queued index; one query, one Redis round trip and one update a sweep, so cheap
 * enough to run every few seconds.
 */
export async function closeDroppedRuns(control: Control, graceMs = GRACE_MS): Promise<number> {
  // A run whose history still waits in the outbox looks queued here though it ran (and its job may
  // be trimmed already): sweep only once the outbox is empty.
  const { connection, prefix } = control.queues;
  if ((await connection.llen(historyOutboxKey(prefix))) > 0) return 0;
  const { rows } = await control.db.query<{ schedule: string; runId: string }>(
    `select schedule, run_id as "runId" from runs
      where state = 'queued' and due_at < now() - make_interval(secs => $1 / 1000.0)
      order by due_at limit $2`,
    [graceMs, BATCH],
  );
  const inRedis = await jobsInRedis(
    control.queues.connection,
    rows.map((row) => ({ queue: control.queues.get(row.schedule), id: row.runId })),
  );
  const dropped = rows.filter((_, i) => !inRedis[i]);
  if (dropped.length === 0) return 0;
  // A window a watermark released goes back to waiting: the scheduler releases it again, so a
  // Redis flush loses no window of a schedule that waits for its data.
  const { rowCount } = await control.db.query(
    `update runs
        set state = case when run_id like $3 then 'waiting' else 'failed' end,
            finished_at = case when run_id like $3 then null else now() end,
            error = case when run_id like $3 then null
              else 'dropped before it ran: its job left Redis (cleaned, emptied, schedule removed or Redis flushed)' end
      where (schedule, run_id) in (select * from unnest($1::text[], $2::text[])) and state = 'queued'`,
    [dropped.map((row) => row.schedule), dropped.map((row) => row.runId), `${runIdPrefix('window')}%`],
  );
  return rowCount ?? 0;
}
