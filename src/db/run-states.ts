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
