import type pg from 'pg';
import { triggerOfRun } from '../queues/run-ids';

/** One attempt of one run: the primary key of job_runs and what is known when it starts. */
export interface RunAttempt {
  schedule: string;
  jobId: string;
  attempt: number;
  jobType: string;
  params: unknown;
  scheduledAt?: Date;
  startedAt: Date;
  worker: string;
  /** The window of event time the run covers (ctx.window); kept on the runs row. */
  windowFrom?: Date;
  windowTo?: Date;
  /** The version of the schedule's spec this attempt ran with (spec-diff.ts), kept on the runs row. */
  specVersion?: string;
  /** The version of the code that ran it (src/version.ts), kept on the runs row. */
  codeVersion?: string;
}

/**
 * How an attempt ended; `final: false`: it failed but the run will be retried. A cancelled attempt
 * (its signal aborted by a cancel) ends the run: it is not retried.
 */
export type AttemptEnd =
  | { state: 'completed'; result: unknown }
  | { state: 'failed'; error: string; final: boolean }
  | { state: 'cancelled'; error: string; by: string };

/** An attempt's end with its log lines, as job_runs keeps them. */
export type RunOutcome = AttemptEnd & { logs: string[] };

const STALLED = 'stalled: the worker stopped during this attempt; the run was started again';

/** One write of the run history, as data: what the outbox keeps while PostgreSQL is away. */
export type HistoryWrite =
  | { op: 'started'; run: RunAttempt }
  | { op: 'finished'; run: RunAttempt; outcome: RunOutcome; at: Date }
  | { op: 'failedOutside'; schedule: string; runId: string; attempts: number; error: string; at: Date };

/**
 * Durable run history in PostgreSQL, kept after Redis trims old jobs: one `runs` row per run and
 * one `job_runs` row per attempt, each written in one statement so that the two always agree.
 */
export class JobRunsLog {
  constructor(private readonly db: pg.Pool) {}

  /** Applies one write; every write is safe to apply again (the outbox may replay one). */
  apply(write: HistoryWrite): Promise<void> {
    switch (write.op) {
      case 'started':
        return this.started(write.run);
      case 'finished':
        return this.finished(write.run, write.outcome, write.at);
      case 'failedOutside':
        return this.failedOutside(write.schedule, write.runId, write.attempts, write.error, write.at);
    }
  }

  /** Records the attempt as active; an earlier attempt still marked active was lost to a stall. */
  async started(run: RunAttempt): Promise<void> {
    await this.db.query(
      `with stalled as (
         update job_runs set state = 'failed', error = $9, finished_at = $7
         where schedule = $1 and job_id = $2 and attempt < $3 and state = 'active'),
       attempt as (
         insert into job_runs (schedule, job_id, attempt, job_type, state, params, scheduled_at, started_at, worker)
         values ($1, $2, $3, $4, 'active', $5, $6, $7, $8)
         on conflict (schedule, job_id, attempt) do update
           set state = 'active', started_at = excluded.started_at, finished_at = null,
               result = null, error = null, logs = null, worker = excluded.worker)
       insert into runs (schedule, run_id, job_type, state, trigger, params, attempts, due_at, started_at,
                         window_from, window_to, spec_version, code_version)
       values ($1, $2, $4, 'active', $10, $5, $3, coalesce($6, $7), $7, $11, $12, $13, $14)
       on conflict (schedule, run_id) do update
         set state = 'active', attempts = greatest(runs.attempts, excluded.attempts),
             started_at = coalesce(runs.started_at, excluded.started_at), finished_at = null,
             result = null, error = null, window_from = coalesce(runs.window_from, excluded.window_from),
             window_to = coalesce(runs.window_to, excluded.window_to),
             spec_version = coalesce(excluded.spec_version, runs.spec_version),
             code_version = coalesce(excluded.code_version, runs.code_version)`,
      [
        run.schedule,
        run.jobId,
        run.attempt,
        run.jobType,
        JSON.stringify(run.params ?? {}),
        run.scheduledAt ?? null,
        run.startedAt,
        run.worker,
        STALLED,
        triggerOfRun(run.jobId),
        run.windowFrom ?? null,
        run.windowTo ?? null,
        run.specVersion ?? null,
        run.codeVersion ?? null,
      ],
    );
  }

  /**
   * Records the attempt's end, with the worker's clock like its start (durations never mix two
   * clocks). The run follows only its latest attempt: a late end of an attempt that lost its lock
   * to a newer one does not overwrite the run.
   */
  async finished(run: RunAttempt, outcome: RunOutcome, at: Date): Promise<void> {
    const failed = outcome.state !== 'completed';
    await this.db.query(
      `with attempt as (
         update job_runs set state = $4, result = $5, error = $6, logs = $8, finished_at = $9
          where schedule = $1 and job_id = $2 and attempt = $3)
       update runs set state = $7, result = $5, error = $6, finished_at = $9,
                       cancelled_by = coalesce($10, cancelled_by)
        where schedule = $1 and run_id = $2 and attempts <= $3`,
      [
        run.schedule,
        run.jobId,
        run.attempt,
        outcome.state,
        failed ? null : JSON.stringify(outcome.result ?? null),
        failed ? outcome.error : null,
        outcome.state === 'failed' && !outcome.final ? 'retrying' : outcome.state,
        JSON.stringify(outcome.logs),
        at,
        outcome.state === 'cancelled' ? outcome.by : null,
      ],
    );
  }

  /**
   * A run BullMQ failed without running it (an attempt lost to stalls past the limit): the rows
   * still marked active or queued are closed with BullMQ's reason, so none stays active for ever.
   */
  async failedOutside(
    schedule: string,
    runId: string,
    attempts: number,
    error: string,
    at: Date,
  ): Promise<void> {
    // Only up to the attempt that failed: a retry may already run elsewhere as the next one.
    await this.db.query(
      `with attempt as (
         update job_runs set state = 'failed', error = $4, finished_at = $5
          where schedule = $1 and job_id = $2 and attempt <= $3 and state = 'active')
       update runs set state = 'failed', error = $4, finished_at = $5
        where schedule = $1 and run_id = $2 and attempts <= $3 and state in ('active', 'queued')`,
      [schedule, runId, attempts, error, at],
    );
  }
}
