import { z } from 'zod';
import { HTTP, urlWith } from '../config/url';
import { durationMs } from './duration';

/**
 * The shape of schedules.yaml, field by field. Semantic checks that need more than the shape
 * (the job exists, its params, the cron fires) live in load.ts.
 */

const duration = durationMs();

const count = (what: string) =>
  z
    .number({ error: `expected a whole number of ${what}, e.g. 3` })
    .int(`expected a whole number of ${what}`)
    .min(0, `expected 0 or more ${what}`);

const backoff = z.union(
  [
    duration.transform((delay) => ({ type: 'fixed' as const, delay })),
    z.strictObject({
      type: z.enum(['fixed', 'exponential'], { error: 'expected fixed or exponential' }),
      delay: duration,
    }),
  ],
  { error: 'expected a duration (fixed backoff, e.g. 2s) or { type: fixed|exponential, delay: 2s }' },
);

const keep = z.union(
  [
    count('runs').transform((n) => ({ completed: n, failed: n })),
    z.strictObject({ completed: count('runs').optional(), failed: count('runs').optional() }),
  ],
  { error: 'expected a number of runs (e.g. 100) or { completed: 100, failed: 500 }' },
);

const notifyUrlHint = (field: string) =>
  `expected an http: or https: URL for ${field}, e.g. https://hooks.example.com/tickflow`;

const notifyUrl = (field: string) =>
  z
    .string({ error: notifyUrlHint(field) })
    .refine((text) => urlWith(text, HTTP) !== undefined, notifyUrlHint(field))
    .optional();

/**
 * Where to POST notices, one URL per event (onFailure: runs failing; onRecovery: a completed run
 * ending a failing streak; onDeadline and onPause: the failure policy's, where failures go unless
 * given), and after how many failed runs in a row (a completed run ends the streak). At least one URL.
 */
const notify = z
  .strictObject(
    {
      onFailure: notifyUrl('onFailure'),
      onRecovery: notifyUrl('onRecovery'),
      onDeadline: notifyUrl('onDeadline'),
      onPause: notifyUrl('onPause'),
      after: z
        .number({ error: 'expected a whole number of failed runs in a row for after, e.g. 3' })
        .int('expected a whole number of failed runs in a row for after')
        .min(1, 'expected after to be 1 or more failed runs in a row (1: on the first failure)')
        .default(1),
    },
    {
      error:
        'expected { onFailure: https://…, after: 3 } (after is optional, default 1; onRecovery, onDeadline and onPause take more URLs)',
    },
  )
  .superRefine((value, ctx) => {
    if (value.onFailure || value.onRecovery || value.onDeadline || value.onPause) return;
    ctx.addIssue({
      code: 'custom',
      path: ['onFailure'],
      message: `is missing; ${notifyUrlHint('onFailure')} (or a URL for onRecovery, onDeadline or onPause)`,
    });
  });

/** pauseAfter: the Nth failed run in a row pauses the schedule; null: never (over a default). */
const pauseAfter = z
  .number({
    error: 'expected a whole number of failed runs in a row for pauseAfter, e.g. 3 (or null: never)',
  })
  .int('expected a whole number of failed runs in a row for pauseAfter')
  .min(
    1,
    'expected pauseAfter to be 1 or more failed runs in a row (3: the third failed run in a row pauses)',
  )
  .nullable();

const WATERMARK_HINT =
  'expected { of: <a consumer schedule>, lateness: 15s } (rerunWithin is optional, default 1h)';

/**
 * Wait for the event-time watermark of a consumer schedule: a window runs once `of` has stored
 * every event up to the window's end plus `lateness`, and runs again when late data changes it
 * (for windows that ended within `rerunWithin`).
 */
const watermark = z.strictObject(
  {
    of: z.string({ error: 'expected the name of a consumer schedule for of, e.g. consumer' }),
    lateness: durationMs({ zero: true }),
    rerunWithin: durationMs({ zero: true }).optional(),
  },
  { error: WATERMARK_HINT },
);

/** The fields of nested maps that reject unknown keys, for "allowed: …" in problems. */
export const NESTED_FIELD_NAMES: Readonly<Record<string, string[]>> = {
  notify: Object.keys(notify.shape),
  watermark: Object.keys(watermark.shape),
};

const OVERRIDABLE_HINT =
  'expected a list of param names a trigger may override, e.g. [count, seed] ([] for none)';

/**
 * The params a caller may override in a trigger (API, CLI, grid, Bull Board), by top-level name;
 * left out, the job type's own harmless ones. A destination (URL, topic, group) only when listed.
 */
const overridable = z.array(z.string({ error: OVERRIDABLE_HINT }), { error: OVERRIDABLE_HINT });

/** Settings a `defaults:` block may give every schedule. */
const settings = {
  timezone: z.string({ error: 'expected an IANA time zone, e.g. Europe/Paris' }).optional(),
  enabled: z.boolean({ error: 'expected true or false' }).optional(),
  overlap: z.enum(['skip', 'allow'], { error: 'expected skip (at most one active run) or allow' }).optional(),
  retries: count('retries').optional(),
  backoff: backoff.optional(),
  timeout: duration.optional(),
  keep: keep.optional(),
  notify: notify.optional(),
  catchup: z
    .enum(['none', 'last', 'all'], {
      error: 'expected none | last | all (what runs for windows missed while paused or down)',
    })
    .optional(),
  catchupWindow: duration.optional(),
  pauseAfter: pauseAfter.optional(),
  /** How long after its due time a run may take to finish; null: no deadline (over a default). */
  deadline: duration.nullable().optional(),
  overridable: overridable.optional(),
};

export const defaultsSchema = z.strictObject(settings).nullish();
export const SETTING_NAMES = Object.keys(settings);

export const scheduleSchema = z.strictObject({
  job: z.string({ error: 'expected a job type name, e.g. sleep' }),
  description: z.string({ error: 'expected text' }).optional(),
  every: duration.optional(),
  cron: z.string({ error: 'expected a cron expression in quotes, e.g. "*/10 * * * * *"' }).optional(),
  /** Run after each completed run of this schedule, instead of on a clock. */
  after: z.string({ error: 'expected the name of another schedule, e.g. consumer' }).optional(),
  watermark: watermark.optional(),
  params: z
    .record(z.string(), z.unknown(), { error: 'expected a map of params, e.g. { ms: 100 }' })
    .nullish(),
  ...settings,
});

export const topicSchema = z.strictObject({
  partitions: z
    .number({ error: 'expected a whole number of partitions, e.g. 3' })
    .int('expected a whole number of partitions')
    .min(1, 'expected at least 1 partition')
    .default(1),
  retention: duration.optional(),
  compact: z.boolean({ error: 'expected true or false' }).default(false),
  /** Copies of each partition; left out: min(3, brokers), with min.insync.replicas one fewer. */
  replicas: z
    .number({ error: 'expected a whole number of replicas, e.g. 3' })
    .int('expected a whole number of replicas')
    .min(1, 'expected at least 1 replica')
    .optional(),
});

/** The top level; each schedule and topic is parsed on its own so that every problem is reported. */
export const fileSchema = z.strictObject(
  {
    defaults: z.unknown().optional(),
    topics: z.record(z.string(), z.unknown(), { error: 'expected a map of topic names' }).nullish(),
    schedules: z.record(z.string(), z.unknown(), { error: 'expected a map of schedule names' }).nullish(),
  },
  { error: 'expected a map with schedules: (and optionally defaults: and topics:)' },
);

export type RawSchedule = z.output<typeof scheduleSchema>;

export const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
export const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;
