import type { Queryable } from './pool';

/**
 * How many manual runs of a schedule that `caller` triggered are queued and not started: what the
 * per-caller limit counts. `triggered_by` is `<where>:<user>` (api:ops, bull-board:ops, cli:ops):
 * a user's runs count together, whichever way they were triggered.
 */
export async function queuedManualRuns(db: Queryable, schedule: string, caller: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from runs
      where schedule = $1 and state = 'queued' and trigger = 'manual'
        and substr(triggered_by, strpos(triggered_by, ':') + 1) = $2`,
    [schedule, caller],
  );
  return rows[0]?.n ?? 0;
}
