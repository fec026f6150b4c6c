import type pg from 'pg';

/** One attempt of a run, as recorded durably in job_runs. */
export interface RunRecord {
  schedule: string;
  jobId: string;
  attempt: number;
  state: 'active' | 'completed' | 'failed';
  startedAt: Date;
  finishedAt: Date | null;
  result: unknown;
  error: string | null;
}

/** The last `perSchedule` attempts of each schedule, newest first. */
export async function recentRuns(
  db: pg.Pool,
  schedules: string[],
  perSchedule: number,
): Promise<RunRecord[]> {
  const { rows } = await db.query<RunRecord>(
    `select schedule, job_id as "jobId", attempt, state, started_at as "startedAt",
            finished_at as "finishedAt", result, error
       from (select *, row_number() over (partition by schedule order by started_at desc) as n
               from job_runs where schedule = any($1)) recent
      where n <= $2
      order by schedule, started_at desc`,
    [schedules, perSchedule],
  );
  return rows;
}
