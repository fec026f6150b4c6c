import type { JobResult } from '../runtime/job';

/** Which attempt of which run an event is about. */
export interface RunEventAttempt {
  schedule: string;
  runId: string;
  /** 1 for the first attempt; BullMQ's attemptsStarted. */
  attempt: number;
  jobType: string;
  /** When the run was due: its slot, its window's end, or when it was queued (a manual run). */
  scheduledAt?: Date;
}

/** An attempt started, and its start is recorded (in job_runs, or in the outbox while PostgreSQL is away). */
export type RunStarted = RunEventAttempt;

/**
 * An attempt ended, and its end is recorded as its start was; a failed one's `notify:` is decided.
 * BullMQ moves the job to completed or failed in Redis just after.
 */
export type RunFinished = RunEventAttempt &
  (
    | { state: 'completed'; result: JobResult }
    /** `final: false`: the run will be retried. */
    | { state: 'failed'; error: string; final: boolean }
    /** Cancelled by a person (`by`): no retry follows. */
    | { state: 'cancelled'; error: string; by: string }
  );

/** What a WorkerPool emits, for whoever watches runs in-process (tests, mostly). */
export interface WorkerPoolEvents {
  'run:started': [RunStarted];
  'run:finished': [RunFinished];
}
