import type pg from 'pg';

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
}

export type RunOutcome = { state: 'completed'; result: unknown } | { state: 'failed'; error: string };

const STALLED = 'stalled: the worker stopped during this attempt; the run was started again';

/** Durable run history in PostgreSQL, one row per attempt, kept after Redis trims old jobs. */
export class JobRunsLog {
  constructor(private readonly db: pg.Pool) {}

  /** Records the attempt as active; an earlier attempt still marked active was lost to a stall. */
  async started(run: RunAttempt): Promise<void> {
    await this.db.query(
      `with stalled as (
         update job_runs set state = 'failed', error = $9, finished_at = $7
         where schedule = $1 and job_id = $2 and attempt < $3 and state = 'active')
       insert into job_runs (schedule, job_id, attempt, job_type, state, params, scheduled_at, started_at, worker)
       values ($1, $2, $3, $4, 'active', $5, $6, $7, $8)
       on conflict (schedule, job_id, attempt) do update
         set state = 'active', started_at = excluded.started_at, finished_at = null,
             result = null, error = null, worker = excluded.worker`,
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
      ],
    );
  }

  async finished(run: RunAttempt, outcome: RunOutcome): Promise<void> {
    await this.db.query(
      `update job_runs set state = $4, result = $5, error = $6, finished_at = now()
       where schedule = $1 and job_id = $2 and attempt = $3`,
      [
        run.schedule,
        run.jobId,
        run.attempt,
        outcome.state,
        outcome.state === 'completed' ? JSON.stringify(outcome.result ?? null) : null,
        outcome.state === 'failed' ? outcome.error : null,
      ],
    );
  }
}
