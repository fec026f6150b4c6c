import { z } from 'zod';
import { isoTime } from '../control/backfill';
import { MARK_STATES, MAX_NOTE_LENGTH } from '../control/mark-run';
import { BULK_ACTIONS, RUN_STATES } from '../control/views';

/** A note of at most MAX_NOTE_LENGTH characters; a longer one is refused saying how long it is. */
const noteText = z.string({ error: 'expected the note as text' }).max(MAX_NOTE_LENGTH, {
  error: (issue) =>
    `at most ${MAX_NOTE_LENGTH} characters (got ${typeof issue.input === 'string' ? issue.input.length : '?'})`,
});

/** The inputs of the run actions' routes (cancel, re-run, mark, note, bulk); part of apiInputs. */
export const runActionInputs = {
  cancelRun: z.strictObject({}),
  rerun: z.strictObject({
    currentParams: z
      .boolean()
      .default(false)
      .describe("run with the schedules file's job and params as they are now, not the old run's"),
  }),
  mark: z.strictObject({
    state: z.enum(MARK_STATES, { error: `expected one of ${MARK_STATES.join(', ')}` }),
    note: noteText.optional().describe("why; kept as the run's note"),
  }),
  note: z.strictObject({
    note: noteText.describe(`the note, at most ${MAX_NOTE_LENGTH} characters; empty clears it`),
  }),
  bulk: z.strictObject({
    action: z.enum(BULK_ACTIONS, { error: `expected one of ${BULK_ACTIONS.join(', ')}` }),
    state: z
      .array(z.enum(RUN_STATES, { error: `expected states from ${RUN_STATES.join(', ')}` }))
      .optional()
      .describe(
        'which runs, by state: rerun takes completed, failed, cancelled (default failed); cancel takes waiting, queued, active, retrying (default all four)',
      ),
    from: isoTime
      .optional()
      .describe('only runs whose window starts at or after this (ISO 8601 with a zone)'),
    to: isoTime.optional().describe('only runs whose window ends at or before this'),
    dryRun: z.boolean().default(false).describe('count and list the runs; do nothing'),
    expect: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        'the count a dry run showed: if the filter now takes another number of runs, nothing is done (409)',
      ),
    currentParams: z.boolean().default(false).describe("rerun: with the file's params, not each run's own"),
  }),
};
