import { z } from 'zod';
import { isoTime, MAX_BACKFILL_WINDOWS } from '../control/backfill';
import { REPROCESS, RUN_STATES } from '../control/views';
import { durationMs } from '../schedules/duration';
import { auditInputs } from './audit-inputs';
import { runActionInputs } from './run-action-inputs';

/** Where the REST API is served; its routes and the OpenAPI document are built from the inputs below. */
export const API_PATH = '/api/v1';

/** At most this many runs per schedule in the grid's window: more would not fit a row anyway. */
const MAX_PER_ROW = 500;
const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

const states = z
  .string()
  .transform((text) => text.split(',').filter(Boolean))
  .pipe(
    z.array(z.enum(RUN_STATES, { error: `expected a comma-separated list of ${RUN_STATES.join(', ')}` })),
  );

const windowDuration = durationMs({ max: MAX_WINDOW_MS });

/** The inputs of every route, validated with zod; the OpenAPI document is generated from them. */
export const apiInputs = {
  listSchedules: z.strictObject({
    window: windowDuration
      .optional()
      .describe("include each schedule's runs due in the last <window> (e.g. 5m)"),
    state: states.optional().describe('only runs in these states (comma-separated)'),
    perRow: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_PER_ROW)
      .default(200)
      .describe('runs per schedule, at most'),
  }),
  pause: z.strictObject({ note: z.string().max(500).optional().describe('why, shown next to the switch') }),
  resume: z.strictObject({ note: z.string().max(500).optional() }),
  trigger: z.strictObject({
    params: z.record(z.string(), z.unknown()).default({}).describe("overrides of the schedule's params"),
  }),
  operations: z.strictObject({
    span: windowDuration.default(3_600_000).describe('how far back the series go, up to 7d (default 1h)'),
    // Rollups are stored by their size in whole seconds: 1500ms matches no schedule and no column.
    windowSize: durationMs({ max: MAX_WINDOW_MS, wholeSeconds: true })
      .default(300_000)
      .describe('which rollup windows to read: the stream-rollup schedule of this size (default 5m)'),
  }),
  backfill: z.strictObject({
    from: isoTime.describe('start of the range, ISO 8601 with a zone'),
    to: isoTime.describe(`end of the range (excluded); at most ${MAX_BACKFILL_WINDOWS} windows`),
    dryRun: z.boolean().default(false).describe('list the windows it would run (and skip), queue nothing'),
    reprocess: z
      .enum(REPROCESS, { error: `expected one of ${REPROCESS.join(', ')}` })
      .default('all')
      .describe(
        "which windows get a run, by the schedule's runs of each: all; failed (the latest run failed or was cancelled); missing (no completed run)",
      ),
  }),
  listRuns: z.strictObject({
    state: states.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.string().optional().describe('the `next` of the previous page'),
  }),
  ...auditInputs,
  ...runActionInputs,
};
