/** A run's states, from trigger to end; kept free of zod so the CLI can name them without loading it. */
export const RUN_STATES = [
  'waiting',
  'queued',
  'active',
  'retrying',
  'completed',
  'failed',
  'cancelled',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/**
 * How a run came to be: the job scheduler (or, for a schedule that waits for a watermark, the
 * scheduler once the watermark passed), a trigger, a backfill, a catch-up of missed windows, a
 * re-run of a window late data changed, a completed run of the schedule it runs after, or a re-run of a
 * finished run (`tickflow rerun`: the same window, linked to the run it redoes).
 */
export const RUN_TRIGGERS = [
  'schedule',
  'manual',
  'backfill',
  'catchup',
  'late-data',
  'after',
  'rerun',
] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * Why slots of a schedule's cadence got no run of their own (tickflow_slots_skipped_total): a
 * pause held the run before them, it waited for the run before it (overlap: skip), or no worker
 * took it in time. See src/worker/failure-policy.ts.
 */
export const SKIP_REASONS = ['paused', 'overlap', 'late'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];
