import type { Queryable } from './pool';

/**
 * Event time as a consumer schedule has stored it (migration 009). Each committed run records, in
 * its own transaction, per partition the offset after the last message it stored and the newest
 * event time it stored; after the commit, the partitions it found caught up. A partition's reach is
 * the later of its newest stored event and the last time it was found caught up (an idle partition
 * then never holds the watermark back); the schedule's watermark is the earliest reach over its
 * topic's partitions: every event up to it has been stored, unless it arrives late.
 */

/**
 * Where a run's own statements go: a pool, or the connection its transaction holds (a pooled client,
 * or the transaction thread's: see db/transaction-connection.ts).
 */
export interface Statements {
  query(sql: string, params: unknown[]): Promise<unknown>;
}

/** One partition's part of a committed run. */
export interface StoredProgress {
  partition: number;
  /** The offset after the last message the run stored (what it commits). */
  nextOffset: string;
  /** The newest event time among the partition's stored transactions; undefined when it had none valid. */
  newestEventAt?: Date;
}

/**
 * Reaches only move forward: a run that stored older events, or a redelivery, never moves one back.
 * An event time ahead of the clock (a producer's clock, or a simulated fraud burst that runs on for
 * minutes) counts as now: it cannot mean that everything up to it has been stored.
 */
export async function recordStoredProgress(
  tx: Statements,
  consumer: { schedule: string; topic: string },
  partitions: StoredProgress[],
): Promise<void> {
  if (partitions.length === 0) return;
  await tx.query(
    `insert into partition_progress (schedule, topic, partition, next_offset, newest_event_at)
     select $1, $2, p.partition, p.next_offset, (case when p.newest_event_at is not null then least(p.newest_event_at, clock_timestamp()) end)
       from jsonb_to_recordset($3::jsonb) as p(partition integer, next_offset bigint, newest_event_at timestamptz)
     on conflict (schedule, topic, partition) do update
       set next_offset = greatest(partition_progress.next_offset, excluded.next_offset),
           newest_event_at = greatest(partition_progress.newest_event_at, excluded.newest_event_at),
           updated_at = now()`,
    [
      consumer.schedule,
      consumer.topic,
      JSON.stringify(
        partitions.map((p) => ({
          partition: p.partition,
          next_offset: p.nextOffset,
          newest_event_at: p.newestEventAt ?? null,
        })),
      ),
    ],
  );
}

/** Partitions a run found with nothing left to read (committed offset = end offset) at `at`. */
export async function recordCaughtUp(
  db: Queryable,
  consumer: { schedule: string; topic: string },
  partitions: number[],
  at: Date,
): Promise<void> {
  if (partitions.length === 0) return;
  await db.query(
    `insert into partition_progress (schedule, topic, partition, caught_up_at)
     select $1, $2, p, $4 from unnest($3::int[]) as p
     on conflict (schedule, topic, partition) do update
       set caught_up_at = greatest(partition_progress.caught_up_at, excluded.caught_up_at), updated_at = now()`,
    [consumer.schedule, consumer.topic, partitions, at],
  );
}

/** A consumer schedule and the topic it reads now (its file params). */
export interface ConsumerStream {
  schedule: string;
  topic: string;
}

/**
 * Each consumer's watermark, in one query; null while some partition of its topic has reached
 * nothing yet (never stored, never found caught up), or when no run has recorded any partition.
 */
export async function watermarksOf(
  db: Queryable,
  consumers: ConsumerStream[],
): Promise<Map<string, Date | null>> {
  if (consumers.length === 0) return new Map();
  const { rows } = await db.query<{ schedule: string; watermark: Date | null }>(
    `select c.schedule,
            case when bool_or(greatest(p.newest_event_at, p.caught_up_at) is null) then null
                 else min(greatest(p.newest_event_at, p.caught_up_at)) end as watermark
       from jsonb_to_recordset($1::jsonb) as c(schedule text, topic text)
       left join partition_progress p on p.schedule = c.schedule and p.topic = c.topic
      group by c.schedule`,
    [JSON.stringify(consumers)],
  );
  return new Map(rows.map((row) => [row.schedule, row.watermark]));
}

export async function watermarkOf(db: Queryable, consumer: ConsumerStream): Promise<Date | null> {
  return (await watermarksOf(db, [consumer])).get(consumer.schedule) ?? null;
}

/** Counts of late transactions by second of event time (ms since the epoch, whole seconds). */
export type LateSeconds = Map<number, number>;

/** Transactions stored behind the watermark, in the run's transaction: their windows get re-run. */
export async function recordLateArrivals(tx: Statements, schedule: string, late: LateSeconds): Promise<void> {
  if (late.size === 0) return;
  await tx.query(
    `insert into late_arrivals (schedule, event_second, stored_at, transactions)
     select $1, to_timestamp(l.second / 1000.0), clock_timestamp(), l.count
       from jsonb_to_recordset($2::jsonb) as l(second bigint, count integer)
     on conflict (schedule, event_second) do update
       set stored_at = excluded.stored_at, transactions = late_arrivals.transactions + excluded.transactions`,
    [schedule, JSON.stringify([...late].map(([second, count]) => ({ second, count })))],
  );
}

export interface LateArrival {
  eventSecond: Date;
  storedAt: Date;
}

/** At most this many late seconds are read per pass: the newest, which matter most. */
export const MAX_LATE_ARRIVALS = 10_000;

/** Late arrivals of a consumer schedule stored in (since, until], newest event first. */
export async function lateArrivals(
  db: Queryable,
  schedule: string,
  stored: { since: Date; until: Date },
): Promise<LateArrival[]> {
  const { rows } = await db.query<LateArrival>(
    `select event_second as "eventSecond", stored_at as "storedAt" from late_arrivals
      where schedule = $1 and stored_at > $2 and stored_at <= $3
      order by event_second desc limit ${MAX_LATE_ARRIVALS}`,
    [schedule, stored.since, stored.until],
  );
  return rows;
}

/** Late arrivals older than any window still re-run: the table stays as small as its use. */
export async function forgetLateArrivals(db: Queryable, storedBefore: Date): Promise<void> {
  await db.query('delete from late_arrivals where stored_at < $1', [storedBefore]);
}
