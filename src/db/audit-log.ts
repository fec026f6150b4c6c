import type { Queryable } from './pool';

/**
 * The audit log (audit_log): every change to what runs, with who, when and what. Callers record
 * their own change where they make it (control/toggle.ts, trigger.ts, backfill.ts, the scheduler's
 * reconcile for schedules.yaml edits, the worker's failure policy, Bull Board's routes), in the same
 * transaction when they hold one. Reads are bounded and follow an index (newest first, per schedule
 * or not).
 */

/** One change, as its maker records it. */
export interface AuditEntry {
  /** Who: `cli:<user>`, `api:<user>`, `grid:<user>`, `bull-board:<user>`, `schedules.yaml` or `tickflow`. */
  by: string;
  /**
   * What kind of change: pause, resume, trigger, backfill, backfill-cancel, schedule-created,
   * schedule-changed, schedule-removed, board:<what>; cancel, rerun, mark, note for what people
   * do to runs.
   */
  action: string;
  /** The schedule changed, if one. */
  schedule?: string | null;
  /** The run changed, if one. */
  runId?: string | null;
  /** One line for people: `params.threshold 0.5 → 0.6`, `paused after 3 failed runs in a row`. */
  what: string;
  /** The same in structure: a diff's changes, a backfill's range, a trigger's params, a note. */
  detail?: Record<string, unknown>;
  /**
   * For a change several processes may record (each scheduler applies a schedules.yaml edit): the
   * first records it, the others find the key taken and record nothing.
   */
  key?: string;
}

/** An entry as the log keeps it. */
export interface StoredAuditEntry {
  id: number;
  at: Date;
  by: string;
  action: string;
  schedule: string | null;
  runId: string | null;
  what: string;
  detail: Record<string, unknown> | null;
}

/** Longest `what` kept: a diff of many fields is summed up, its detail has them all. */
const MAX_WHAT = 2_000;

/**
 * Records one change; its id, or undefined when an entry with the same `key` is already there.
 * `db` may be a transaction's connection (the change and its record commit together) or a pool.
 */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<number | undefined> {
  const what = entry.what.length > MAX_WHAT ? `${entry.what.slice(0, MAX_WHAT - 1)}…` : entry.what;
  const { rows } = await db.query<{ id: string }>(
    `insert into audit_log (actor, action, schedule, run_id, what, detail, key)
     values ($1, $2, $3, $4, $5, $6, $7)
     on conflict (key) do nothing
     returning id`,
    [
      entry.by,
      entry.action,
      entry.schedule ?? null,
      entry.runId ?? null,
      what,
      entry.detail === undefined ? null : JSON.stringify(entry.detail),
      entry.key ?? null,
    ],
  );
  return rows[0] ? Number(rows[0].id) : undefined;
}

export interface AuditQuery {
  /** One schedule's entries only. */
  schedule?: string;
  /** Entries at or after this time. */
  since?: Date;
  /** The page after this entry (newest first): the last entry of the previous page. */
  before?: { at: Date; id: number };
  limit: number;
}

const COLUMNS = `id, at, actor as "by", action, schedule, run_id as "runId", what, detail`;

/** A page of the log, newest first (audit_log_recent, or audit_log_by_schedule for one schedule). */
export async function auditEntries(db: Queryable, query: AuditQuery): Promise<StoredAuditEntry[]> {
  const { rows } = await db.query<Omit<StoredAuditEntry, 'id'> & { id: string }>(
    `select ${COLUMNS} from audit_log
      where ($1::text is null or schedule = $1)
        and ($2::timestamptz is null or at >= $2)
        and ($3::timestamptz is null or (at, id) < ($3, $4))
      order by at desc, id desc
      limit $5`,
    [
      query.schedule ?? null,
      query.since ?? null,
      query.before?.at ?? null,
      query.before?.id ?? null,
      query.limit,
    ],
  );
  return rows.map((row) => ({ ...row, id: Number(row.id) }));
}

// ---------------------------------------------------------------- spec versions

/** The actions that set a schedule's spec (see src/scheduler/spec-audit.ts). */
export const SPEC_ACTIONS = ['schedule-created', 'schedule-changed'] as const;

/** What schedule_state says of the spec the scheduler applied last. */
export interface AppliedSpec {
  version: string | null;
  /** The modification time of the schedules file it came from. */
  fileAt: Date | null;
}

/** The applied spec version of a schedule, read on the connection that holds its row lock. */
export async function appliedSpec(db: Queryable, schedule: string): Promise<AppliedSpec | undefined> {
  const { rows } = await db.query<AppliedSpec>(
    `select spec_version as version, spec_file_at as "fileAt" from schedule_state where schedule = $1`,
    [schedule],
  );
  return rows[0];
}

/** Records the spec version applied now (null: the schedule left the file), under the row lock. */
export async function setAppliedSpec(db: Queryable, schedule: string, applied: AppliedSpec): Promise<void> {
  await db.query('update schedule_state set spec_version = $2, spec_file_at = $3 where schedule = $1', [
    schedule,
    applied.version,
    applied.fileAt,
  ]);
}

/** A version's spec as spec_versions keeps it (the file's view of it, durations written out). */
export async function storedSpec(
  db: Queryable,
  schedule: string,
  version: string,
): Promise<Record<string, unknown> | undefined> {
  const { rows } = await db.query<{ spec: Record<string, unknown> }>(
    'select spec from spec_versions where schedule = $1 and version = $2',
    [schedule, version],
  );
  return rows[0]?.spec;
}

/** Keeps a version's spec and the entry that set it (last set wins: a revert links to the revert). */
export async function recordSpecVersion(
  db: Queryable,
  version: { schedule: string; version: string; spec: Record<string, unknown>; auditId: number | undefined },
): Promise<void> {
  await db.query(
    `insert into spec_versions (schedule, version, spec, audit_id) values ($1, $2, $3, $4)
     on conflict (schedule, version) do update
       set audit_id = coalesce(excluded.audit_id, spec_versions.audit_id),
           since = case when excluded.audit_id is null then spec_versions.since else now() end`,
    [version.schedule, version.version, JSON.stringify(version.spec), version.auditId ?? null],
  );
}

/** The entry that set a spec version, as a run shows it. */
export interface SpecSetBy {
  version: string;
  auditId: number | null;
  at: Date | null;
  by: string | null;
  what: string | null;
}

/**
 * The entry that set the spec version a run ran with: the latest schedules.yaml entry of its
 * schedule with that version recorded at or before `at` (the run's start); else the one
 * spec_versions links to (a worker may start a run with an edit a scheduler records a moment
 * later). Null fields: a version no scheduler recorded (yet).
 */
export async function specSetBy(
  db: Queryable,
  schedule: string,
  version: string,
  at: Date,
): Promise<SpecSetBy> {
  const { rows } = await db.query<Omit<SpecSetBy, 'auditId'> & { auditId: string | null }>(
    `with by_time as (
       select id from audit_log
        where schedule = $1 and action = any($4) and at <= $3 and detail->>'version' = $2
        order by at desc, id desc limit 1),
     linked as (select audit_id as id from spec_versions where schedule = $1 and version = $2)
     select $2 as version, a.id as "auditId", a.at, a.actor as by, a.what
       from (select coalesce((select id from by_time), (select id from linked)) as id) chosen
       left join audit_log a on a.id = chosen.id`,
    [schedule, version, at, [...SPEC_ACTIONS]],
  );
  const row = rows[0];
  return {
    version,
    auditId: row?.auditId ? Number(row.auditId) : null,
    at: row?.at ?? null,
    by: row?.by ?? null,
    what: row?.what ?? null,
  };
}

/**
 * The spec version of a schedule in force at `at`: the version of its latest schedules.yaml entry
 * recorded at or before then (what the job scheduler and the control plane made runs with).
 */
export async function specVersionAt(db: Queryable, schedule: string, at: Date): Promise<string | undefined> {
  const { rows } = await db.query<{ version: string | null }>(
    `select detail->>'version' as version from audit_log
      where schedule = $1 and action = any($2) and at <= $3
      order by at desc, id desc limit 1`,
    [schedule, [...SPEC_ACTIONS], at],
  );
  return rows[0]?.version ?? undefined;
}
