import { z } from 'zod';
import { RUN_STATES } from '../db/run-states';
import { attemptView, maybeWhen, runSummary, when } from '../db/run-views';
import { runSpecView, schedulePolicyFields } from './audit-views';

/**
 * What the control plane answers: the shapes the REST API returns as JSON (and documents in its
 * OpenAPI document, generated from these schemas), the CLI prints and the grid draws. Dates are
 * ISO 8601 strings so that every consumer sees the same thing.
 */

export { RUN_STATES, type RunState } from '../db/run-states';
export type { AttemptView, RunSummary } from '../db/run-views';

const switchView = z
  .object({
    paused: z.boolean(),
    note: z.string().nullable().describe('why, as given with the pause'),
    by: z
      .string()
      .nullable()
      .describe('cli:<user>, api:<user>, grid:<user>, bull-board:<user> or schedules.yaml'),
    at: maybeWhen,
  })
  .describe("A schedule's switch: who turned it on or off last, when and why");

export const runDetail = runSummary
  .extend({
    params: z.unknown(),
    result: z.unknown(),
    attemptList: z.array(attemptView),
    logs: z.array(z.string()).describe("Bull Board's copy while Redis keeps the job, else the durable copy"),
    boardUrl: z.string().nullable().describe('the run in Bull Board, while Redis keeps it'),
    reruns: z.array(z.string()).describe('the runs that re-ran this one, newest first'),
    spec: runSpecView
      .nullable()
      .describe("its schedule's spec version and the edit that set it; null: not recorded"),
  })
  .describe('One run in full');
export type RunDetail = z.infer<typeof runDetail>;

export const watermarkView = z
  .object({
    at: maybeWhen.describe(
      'every event up to this time has been stored (the earliest over the partitions of its topic of the ' +
        'newest event stored, or for a caught-up partition the time it was found so); null: not yet, ' +
        'some partition has reached nothing',
    ),
    lagSeconds: z
      .number()
      .nullable()
      .describe('now − at, in seconds (negative: event times ahead of the clock)'),
  })
  .describe("A consumer schedule's event-time watermark");
export type WatermarkView = z.infer<typeof watermarkView>;

export const scheduleView = z.object({
  name: z.string(),
  job: z.string().nullable(),
  description: z.string().nullable(),
  cadence: z
    .string()
    .nullable()
    .describe(
      'every 5s, cron 0 * * * * (UTC), after consumer, or a clock with what it waits for ("…, once consumer\'s watermark passes each window\'s end + 15s")',
    ),
  after: z.string().nullable().describe('the schedule whose every completed run this one follows (after:)'),
  waitsFor: z
    .object({ of: z.string(), lateness: z.string(), rerunWithin: z.string() })
    .nullable()
    .describe('the consumer schedule whose event-time watermark each window waits for (watermark:)'),
  inFile: z.boolean().describe('in the current schedules file'),
  params: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("the file's params (defaults filled in); URLs shown as their origin only"),
  overridable: z
    .array(z.string())
    .describe(
      "the params a trigger may override: the schedule's `overridable:`, else its job type's harmless ones; empty when not in the file",
    ),
  switch: switchView.describe('as PostgreSQL records it; BullMQ follows within seconds'),
  paused: z.boolean(),
  scheduled: z
    .boolean()
    .describe(
      'BullMQ has its job scheduler (a schedule that runs after another or waits for a watermark has none)',
    ),
  nextRunAt: maybeWhen,
  lastRun: runSummary.nullable(),
  ...schedulePolicyFields,
  watermark: watermarkView
    .nullable()
    .describe("a consumer schedule's event-time watermark; null for a schedule whose job records none"),
});
export type ScheduleView = z.infer<typeof scheduleView>;

const fileErrorView = z
  .object({
    message: z.string(),
    problems: z.array(
      z.object({
        file: z.string(),
        line: z.number().int(),
        column: z.number().int(),
        schedule: z.string().optional(),
        field: z.string().optional(),
        message: z.string(),
      }),
    ),
    at: maybeWhen,
  })
  .describe('The last broken edit of schedules.yaml, while the previous schedules keep running');
export type FileErrorView = z.infer<typeof fileErrorView>;

export const schedulesView = z.object({
  file: z.string(),
  fileError: fileErrorView.nullable(),
  readOnly: z.boolean(),
  schedules: z.array(scheduleView),
  window: z
    .object({
      from: when,
      to: when,
      runs: z.record(z.string(), z.array(runSummary)),
      capped: z.array(z.string()).describe('schedules with more runs in the window than shown'),
    })
    .optional()
    .describe("with ?window=: each schedule's runs due in it, newest first"),
});
export type SchedulesView = z.infer<typeof schedulesView>;

export const runPage = z.object({
  runs: z.array(runSummary),
  next: z.string().nullable().describe('pass as ?before= for the next (older) page; null on the last'),
});
export type RunPage = z.infer<typeof runPage>;

export const triggeredRun = z.object({
  schedule: z.string(),
  runId: z.string(),
  params: z.record(z.string(), z.unknown()),
  waitsForResume: z.boolean().describe('the schedule is paused: the run waits for the resume'),
});
export type TriggeredRun = z.infer<typeof triggeredRun>;

/** Which windows of the range a backfill runs, by what PostgreSQL has for each (`--reprocess`). */
export const REPROCESS = ['failed', 'missing', 'all'] as const;
export type Reprocess = (typeof REPROCESS)[number];

const windowView = z.object({ from: when, to: when });

export const backfillView = z.object({
  schedule: z.string(),
  id: z
    .string()
    .nullable()
    .describe(
      'the backfill, for cancelling it (`tickflow backfill cancel`, DELETE /schedules/{name}/backfills/{id}); null when nothing was queued (a dry run, or every window skipped)',
    ),
  dryRun: z.boolean().describe('true: the windows are listed, nothing is queued'),
  reprocess: z
    .enum(REPROCESS)
    .describe(
      'all: every window; failed: windows whose latest run failed or was cancelled; missing: windows with no completed run',
    ),
  runs: z
    .array(
      z.object({
        runId: z.string().nullable().describe('null on a dry run'),
        window: windowView,
      }),
    )
    .describe('one run per window, oldest first (on a dry run, the windows it would run)'),
  skipped: z
    .array(
      z.object({
        window: windowView,
        latest: z
          .enum(RUN_STATES)
          .nullable()
          .describe("the state of the window's latest run; null: never run"),
      }),
    )
    .describe('the windows of the range that `reprocess` leaves out, oldest first'),
  waitsForResume: z.boolean().describe('the schedule is paused: the runs wait for the resume'),
});
export type BackfillView = z.infer<typeof backfillView>;

export const cancelledBackfill = z.object({
  schedule: z.string(),
  id: z.string(),
  dropped: z
    .number()
    .int()
    .describe('runs that had not started: removed from the queue and recorded as cancelled'),
  started: z
    .number()
    .int()
    .describe('runs that had started before the cancel (running or finished): left to run to completion'),
  running: z.number().int().describe('of those, the ones still running'),
});
export type CancelledBackfill = z.infer<typeof cancelledBackfill>;

export const errorView = z.object({
  error: z.string(),
  issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** How a cancel reached its run. */
export const CANCEL_OUTCOMES = ['removed', 'aborted', 'recorded', 'requested'] as const;

export const cancelledRun = z.object({
  schedule: z.string(),
  runId: z.string(),
  was: z.enum(RUN_STATES).describe('its state when the cancel came'),
  state: z.enum(RUN_STATES).describe('its state now: cancelled, or (requested) still active'),
  outcome: z
    .enum(CANCEL_OUTCOMES)
    .describe(
      'removed: it had not started and left the queue; aborted: it was running, its signal was aborted and it ended cancelled; recorded: no queue held it any more, the history says cancelled; requested: a worker has it (or is taking it) and aborts it as soon as it sees the request (within a second)',
    ),
  by: z.string(),
});
export type CancelledRun = z.infer<typeof cancelledRun>;

export const rerunView = z.object({
  schedule: z.string(),
  runId: z.string().describe('the new run (trigger rerun)'),
  rerunOf: z.string(),
  window: z.object({ from: when, to: when }).describe("the old run's window, which the new run covers"),
  jobType: z.string(),
  params: z
    .record(z.string(), z.unknown())
    .describe("the old run's params, or with currentParams the file's"),
  waitsForResume: z.boolean().describe('the schedule is paused: the run waits for the resume'),
});
export type RerunView = z.infer<typeof rerunView>;

/** What a bulk action does to each run it takes. */
export const BULK_ACTIONS = ['rerun', 'cancel'] as const;
export type BulkAction = (typeof BULK_ACTIONS)[number];

export const bulkView = z.object({
  schedule: z.string(),
  action: z.enum(BULK_ACTIONS),
  dryRun: z.boolean().describe('true: the runs are counted and listed, nothing is done'),
  matched: z.number().int().describe('how many runs the filter takes'),
  runs: z
    .array(
      z.object({
        runId: z.string(),
        state: z.enum(RUN_STATES).describe('its state when selected'),
        window: z.object({ from: when, to: when }).nullable(),
        rerunId: z.string().nullable().describe('rerun: the new run (null on a dry run)'),
        outcome: z
          .enum(CANCEL_OUTCOMES)
          .nullable()
          .describe('cancel: how it was cancelled (null on a dry run)'),
      }),
    )
    .describe('every run taken, oldest first'),
});
export type BulkView = z.infer<typeof bulkView>;
