import { z } from 'zod';
import { maybeWhen, when } from '../db/run-views';

/**
 * The shapes the audit log and the failure policy add to the control plane's answers (views.ts
 * uses them in a schedule's and a run's view; GET /audit answers an auditPage).
 */

export const auditEntryView = z
  .object({
    id: z.number().int(),
    at: when,
    by: z
      .string()
      .describe('cli:<user>, api:<user>, grid:<user>, bull-board:<user>, schedules.yaml or tickflow'),
    action: z
      .string()
      .describe(
        'pause, resume, trigger, backfill, backfill-cancel, schedule-created, schedule-changed, schedule-removed, board:<what> (a Bull Board action), cancel, rerun, mark, note',
      ),
    schedule: z.string().nullable(),
    runId: z.string().nullable(),
    what: z
      .string()
      .describe('one line: `params.threshold 0.5 → 0.6`, `paused: paused after 3 failed runs in a row`'),
    detail: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe(
        "the same in structure, e.g. a schedules.yaml edit's version, from and changes [{ field, from, to }]",
      ),
  })
  .describe('One change: who, when and what');
export type AuditEntryView = z.infer<typeof auditEntryView>;

export const auditPage = z.object({
  entries: z.array(auditEntryView).describe('newest first'),
  next: z.string().nullable().describe('pass as ?before= for the next (older) page; null on the last'),
});
export type AuditPage = z.infer<typeof auditPage>;

const url = z.string().nullable();

export const notifyView = z
  .object({
    after: z.number().int().describe('failed runs in a row before onFailure hears (once per streak)'),
    onFailure: url.describe('run_failed goes here'),
    onRecovery: url.describe('run_recovered (a completed run ends a streak of `after` or more failed runs)'),
    onDeadline: url.describe('run_deadline_missed goes here (onFailure unless given)'),
    onPause: url.describe('schedule_paused (pauseAfter) goes here (onFailure unless given)'),
  })
  .describe("The schedule's notify:, each event's URL as it resolves (null: not sent)");
export type NotifyView = z.infer<typeof notifyView>;

/** What a schedule's view tells of its failure policy and its spec's version. */
export const schedulePolicyFields = {
  notify: notifyView.nullable(),
  pauseAfter: z
    .number()
    .int()
    .nullable()
    .describe('the Nth failed run in a row pauses the schedule (by tickflow); null: never'),
  deadline: z
    .string()
    .nullable()
    .describe(
      'a run unfinished this long after its due time is flagged and run_deadline_missed sent, e.g. 3s',
    ),
  specVersion: z
    .string()
    .nullable()
    .describe(
      "the version of the schedule's spec in the current file (what its runs record); null: not in the file",
    ),
};

export const runSpecView = z
  .object({
    version: z.string(),
    auditId: z.number().int().nullable().describe('the audit entry of the schedules.yaml edit that set it'),
    at: maybeWhen,
    by: z.string().nullable(),
    what: z.string().nullable(),
  })
  .describe("The version of its schedule's spec a run ran with, and the edit that set it");
export type RunSpecView = z.infer<typeof runSpecView>;
