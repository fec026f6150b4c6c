import type pg from 'pg';
import type { Queryable } from './pool';

/** A schedule's switch: on or paused, with who flipped it last, when and why. */
export interface ScheduleSwitch {
  paused: boolean;
  note: string | null;
  changedBy: string | null;
  changedAt: Date;
}

/** One row of schedule_state: the switch plus what the reconciler last applied from the file. */
export interface ScheduleState extends ScheduleSwitch {
  schedule: string;
  fileEnabled: boolean | null;
  spec: unknown;
  appliedAt: Date | null;
  removedAt: Date | null;
  /** The version of the schedule's spec last applied (spec_versions; audit-log.ts's appliedSpec). */
  specVersion: string | null;
}

/** The statements a caller may run while holding one schedule's row lock. */
export interface LockedState {
  /** The row as it was when locked; undefined for a schedule never seen before. */
  row: ScheduleState | undefined;
  /**
   * The locked transaction's own connection, for queries that belong under the lock: taking a second
   * pool connection while holding this one could wait forever once every connection does the same.
   */
  db: Queryable;
  setSwitch(change: Pick<ScheduleSwitch, 'paused' | 'note' | 'changedBy'>): Promise<void>;
  /** What the reconciler applied: the file's `enabled:` and the scheduler spec now in BullMQ. */
  setApplied(applied: { fileEnabled: boolean; spec: unknown }): Promise<void>;
  setRemoved(): Promise<void>;
}

const COLUMNS = `schedule, paused, note, changed_by as "changedBy", changed_at as "changedAt",
  file_enabled as "fileEnabled", spec, applied_at as "appliedAt", removed_at as "removedAt",
  spec_version as "specVersion"`;

/**
 * PostgreSQL's record of every schedule's switch (schedule_state). BullMQ follows it: the
 * reconciler re-applies it after a Redis flush, and every toggle writes here first.
 */
export class ScheduleStates {
  constructor(private readonly db: pg.Pool) {}

  async all(): Promise<ScheduleState[]> {
    const { rows } = await this.db.query<ScheduleState>(
      `select ${COLUMNS} from schedule_state order by schedule`,
    );
    return rows;
  }

  async get(schedule: string): Promise<ScheduleState | undefined> {
    const { rows } = await this.db.query<ScheduleState>(
      `select ${COLUMNS} from schedule_state where schedule = $1`,
      [schedule],
    );
    return rows[0];
  }

  /** Schedules set up by the reconciler and still in the file. */
  async managed(): Promise<string[]> {
    const { rows } = await this.db.query<{ schedule: string }>(
      'select schedule from schedule_state where removed_at is null and applied_at is not null order by schedule',
    );
    return rows.map((row) => row.schedule);
  }

  /**
   * Runs `work` holding the schedule's row lock, in one transaction: a toggle and a reconcile pass
   * of the same schedule never interleave (the pass would otherwise undo a toggle it read too early).
   */
  async locked<T>(schedule: string, work: (state: LockedState) => Promise<T>): Promise<T> {
    const client = await this.db.connect();
    try {
      await client.query('begin');
      // Create the row first so that there is always something to lock, even for a new schedule.
      await client.query('insert into schedule_state (schedule) values ($1) on conflict do nothing', [
        schedule,
      ]);
      const { rows } = await client.query<ScheduleState>(
        `select ${COLUMNS} from schedule_state where schedule = $1 for update`,
        [schedule],
      );
      const row = rows[0]?.appliedAt ? rows[0] : undefined;
      const result = await work(lockedStatements(client, schedule, row));
      await client.query('commit');
      return result;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}

function lockedStatements(
  client: pg.PoolClient,
  schedule: string,
  row: ScheduleState | undefined,
): LockedState {
  return {
    row,
    db: client,
    async setSwitch({ paused, note, changedBy }) {
      await client.query(
        `update schedule_state set paused = $2, note = $3, changed_by = $4, changed_at = now()
          where schedule = $1`,
        [schedule, paused, note, changedBy],
      );
    },
    async setApplied({ fileEnabled, spec }) {
      await client.query(
        `update schedule_state set file_enabled = $2, spec = $3, applied_at = now(), removed_at = null
          where schedule = $1`,
        [schedule, fileEnabled, JSON.stringify(spec)],
      );
    },
    async setRemoved() {
      await client.query('update schedule_state set removed_at = now() where schedule = $1', [schedule]);
    },
  };
}
