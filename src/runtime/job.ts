import type pg from 'pg';
import type { z } from 'zod';
import type { StreamClient } from '../kafka/stream-client';
import type { Logger } from '../log/logger';

/** The span of event time a run covers: [from, to). A scheduled run's `to` is its due time. */
export interface RunWindow {
  from: Date;
  to: Date;
}

/** A completed run that another schedule's run follows (`after:`). */
export interface UpstreamRun {
  schedule: string;
  runId: string;
  window: RunWindow;
  /** What it returned. */
  result: JobResult;
}

/**
 * What a run sees of the engine: who it is and the capabilities it may use, nothing more (no raw
 * Redis, no config). A job knows nothing of BullMQ.
 */
export interface JobContext {
  /** Aborted when the run exceeds its timeout or the worker shuts down; long waits must honour it. */
  signal: AbortSignal;
  /** Lines logged here also reach the run's log in Bull Board. */
  log: Logger;
  /** Which schedule (or manual trigger) started this run, and which attempt it is (1-based). */
  schedule: string;
  runId: string;
  attempt: number;
  /**
   * The window of event time this run covers, the same for every attempt: a scheduled or catch-up
   * run's slot ([previous slot, due)), a backfill run's window, or for a manual run the cadence's
   * span ending at the trigger time. Process data by this, not by the wall clock.
   */
  window: RunWindow;
  /**
   * For a schedule that runs `after:` another: the completed run of the other that this run follows
   * (its window is this run's window too). Undefined for every other run.
   */
  upstream?: UpstreamRun;
  /** Kafka through tickflow's one seam to its client: topics, sends, this process's bounded consumers, lag. */
  kafka: StreamClient;
  /** The worker's PostgreSQL pool, shared by every run of the process. */
  db: pg.Pool;
  /** A process-wide object by key, made on first use (e.g. an HTTP predictor and its circuit breaker). */
  shared<T>(key: string, create: () => T): T;
}

/**
 * A failure a retry cannot fix (bad input, an open circuit): the run fails at once, its remaining
 * retries unused. Any error with `retryable: false` counts the same (e.g. the HTTP predictor's).
 */
export class PermanentError extends Error {
  override name = 'PermanentError';
  readonly retryable = false;
}

/** A small JSON object: a run's result is stored in Redis and PostgreSQL. */
export type JobResult = Record<string, unknown>;

/** One job type: like an Airflow DAG file, a name, a typed set of params and a function. */
export interface JobDefinition<Params extends z.ZodType = z.ZodType> {
  name: string;
  description: string;
  /** A strict zod object: unknown params are an error in schedules.yaml, not a surprise at run time. */
  params: Params;
  run(ctx: JobContext, params: z.output<Params>): Promise<JobResult>;
  /**
   * The params a caller may override in a trigger (API, CLI, grid, Bull Board's "Add job") when its
   * schedule lists none (`overridable:` in schedules.yaml): harmless ones only, such as counts and
   * sizes within the schema's limits. Never a destination (a URL, a topic, a consumer group): a
   * request must not redirect a run. None by default.
   */
  overridable?: readonly string[];
  /**
   * The fields of its result that count messages the run handled: tickflow_messages_total adds them
   * up, the field's name as its `kind` label. None by default: e.g. a rollup's `flagged` totals stored
   * rows again, which are not messages that run handled.
   */
  messageCounts?: readonly string[];
  /**
   * Its runs record the event-time watermark of the topic its `topic` param names (a consumer): a
   * schedule may then wait for it (`watermark: { of: <this schedule> }`).
   */
  recordsWatermark?: boolean;
  /**
   * The span of event time a run for `window` reads, when it is not the window itself (a 5-minute
   * sliding rollup run every minute reads 5 minutes). Late data anywhere in it re-runs the window
   * of a schedule that waits for a watermark. Params as the job's schema returned them.
   */
  eventTimeRead?(params: Record<string, unknown>, window: RunWindow): RunWindow;
}

export function defineJob<Params extends z.ZodType>(job: JobDefinition<Params>): JobDefinition<Params> {
  return job;
}
