import { z } from 'zod';
import { RUN_STATES, RUN_TRIGGERS, SKIP_REASONS } from './run-states';

/**
 * A run and its attempts as the runs history reads them (run-history.ts) and the control plane
 * answers them (src/control/views.ts, which documents them in the OpenAPI document). Dates are ISO
 * 8601 strings.
 */

export const when = z.iso.datetime();
export const maybeWhen = when.nullable();

const runState = z.enum(RUN_STATES);

export const runSummary = z
  .object({
    schedule: z.string(),
    runId: z.string(),
    jobType: z.string(),
    state: runState,
    trigger: z
      .enum(RUN_TRIGGERS)
      .describe(
        'schedule: made by the job scheduler (or released by a watermark); manual: a trigger; backfill: `tickflow backfill`; catchup: a window missed while paused or down; late-data: a window re-run because late data changed it; after: a run after a completed run of the schedule it follows; rerun: a re-run of a finished run (`rerunOf`), for its window',
      ),
    waitingFor: z
      .string()
      .nullable()
      .describe(
        'what a waiting run waits for, e.g. "consumer\'s watermark to pass 2024-03-01T10:05:15.000Z"',
      ),
    triggeredBy: z.string().nullable(),
    attempts: z.number().int(),
    dueAt: when.describe(
      'the slot of a scheduled or catch-up run; the time a manual or backfill run was queued',
    ),
    window: z
      .object({ from: when, to: when })
      .nullable()
      .describe('the window of event time the run covers, [from, to) (ctx.window); null before it started'),
    startedAt: maybeWhen,
    finishedAt: maybeWhen,
    durationMs: z.number().nullable().describe("first attempt's start to last attempt's end (or now)"),
    error: z.string().nullable(),
    rerunOf: z.string().nullable().describe('the run this one re-runs (trigger rerun), of the same schedule'),
    cancelledBy: z
      .string()
      .nullable()
      .describe(
        'who cancelled the run (state cancelled): cli:<user>, api:<user>, grid:<user>, bull-board:<user>',
      ),
    marked: z
      .object({ from: runState, by: z.string(), at: when })
      .nullable()
      .describe(
        'the run was marked completed or failed by hand (`tickflow mark`): the state it had, who, when',
      ),
    note: z
      .object({ text: z.string(), by: z.string(), at: when })
      .nullable()
      .describe('a note on the run (`tickflow note`, or given with a mark): its text, who wrote it, when'),
    deadlineMissedAt: maybeWhen.describe(
      "when the run, still unfinished, passed its deadline (the schedule's deadline: after its due time); null: it did not",
    ),
    skipped: z
      .object({
        slots: z.number().int(),
        reason: z
          .enum(SKIP_REASONS)
          .describe(
            'paused: a pause held this run; overlap: it waited for the run before it (overlap: skip); late: no worker took it in time',
          ),
      })
      .nullable()
      .describe(
        "the slots of the schedule's cadence after this run's that got no run of their own, because it started late (BullMQ's job scheduler skips to the next slot after the start)",
      ),
    specVersion: z
      .string()
      .nullable()
      .describe("the version of the schedule's spec the run ran with (a hash of it; see GET /audit)"),
    codeVersion: z
      .string()
      .nullable()
      .describe('the version of the code that ran it: package version+git describe'),
  })
  .describe('One run (all its attempts) in a list');
export type RunSummary = z.infer<typeof runSummary>;

export const attemptView = z.object({
  attempt: z.number().int(),
  state: z.enum(['active', 'completed', 'failed', 'cancelled']),
  startedAt: when,
  finishedAt: maybeWhen,
  durationMs: z.number().nullable(),
  worker: z.string().nullable(),
  error: z.string().nullable(),
  result: z.unknown(),
  logs: z.array(z.string()),
});
export type AttemptView = z.infer<typeof attemptView>;
