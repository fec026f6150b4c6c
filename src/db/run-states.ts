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
