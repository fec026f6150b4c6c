import { type ZodType, z } from 'zod';
import { auditPage } from '../control/audit-views';
import { MAX_BULK_RUNS } from '../control/bulk-runs';
import { operationsView } from '../control/operations';
import {
  backfillView,
  bulkView,
  cancelledBackfill,
  cancelledRun,
  errorView,
  rerunView,
  runDetail,
  runPage,
  schedulesView,
  scheduleView,
  triggeredRun,
} from '../control/views';
import { runSummary } from '../db/run-views';
import { API_PATH, apiInputs } from './api-inputs';
import { sessionView } from './session';

const schema = (type: ZodType) =>
  z.toJSONSchema(type, { io: 'input', unrepresentable: 'any', target: 'openapi-3.0' });

const json = (type: ZodType, description: string) => ({
  description,
  content: { 'application/json': { schema: schema(type) } },
});

const errors = {
  '400': json(
    errorView,
    'invalid input: `issues` names each field (a param the schedule does not let a caller override among them)',
  ),
  '401': json(errorView, 'credentials required (HTTP basic or Bearer token)'),
  '403': json(errorView, 'read-only server, a role that may not do this, or a cross-origin write'),
  '404': json(errorView, 'no such schedule or run'),
  '421': json(errorView, "the Host header names another server (not loopback, nor WEB_PUBLIC_URL's host)"),
  '429': json(
    errorView,
    'too many failed logins from this address (Retry-After), or too many queued manual runs',
  ),
};

/** Query parameters from a zod object: one parameter per field. */
function queryOf(object: z.ZodObject) {
  const { properties = {}, required = [] } = schema(object) as {
    properties?: Record<string, { description?: string }>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: 'query',
    required: required.includes(name),
    ...(property.description ? { description: property.description } : {}),
    schema: property,
  }));
}

const nameParam = {
  name: 'name',
  in: 'path',
  required: true,
  schema: { type: 'string' },
  description: 'schedule name',
};
const backfillIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[0-9a-f]{8}$' },
  description: 'the backfill, as POST /schedules/{name}/backfill returned it',
};
const runIdParam = { name: 'runId', in: 'path', required: true, schema: { type: 'string' } };
const body = (object: z.ZodObject) => ({
  required: false,
  content: { 'application/json': { schema: schema(object) } },
});

let built: ReturnType<typeof buildDocument> | undefined;

/**
 * The OpenAPI 3.0 document of the REST API, generated from the same zod schemas that validate it;
 * it is the same for the life of the process, so it is built on the first request and reused.
 */
export function openApiDocument() {
  built ??= buildDocument();
  return built;
}

const conflict = (what: string) => ({ '409': json(errorView, what) });

/** The run actions: cancel, re-run, mark, note, and bulk re-run or cancel (web/run-routes.ts). */
function runActionPaths() {
  return {
    '/schedules/{name}/runs/{runId}/cancel': {
      post: {
        operationId: 'cancelRun',
        summary:
          'Cancel a run that waits or runs, on whichever worker holds it: a queued one leaves the queue; a running one has its signal aborted and ends cancelled (not retried). Answers once it is recorded (up to 5 s)',
        parameters: [nameParam, runIdParam],
        requestBody: body(apiInputs.cancelRun),
        responses: {
          '200': json(cancelledRun, 'the run, cancelled: how (removed, aborted, recorded)'),
          '202': json(
            cancelledRun,
            'requested: the worker holding the run aborts it as soon as it sees the request',
          ),
          ...errors,
          ...conflict('the run has finished (completed, failed or cancelled): nothing to cancel'),
        },
      },
    },
    '/schedules/{name}/runs/{runId}/rerun': {
      post: {
        operationId: 'rerunRun',
        summary:
          "Re-run a finished run: a new run (trigger rerun, rerunOf) of the same window with the same job and params (or the file's, with currentParams); works from PostgreSQL for runs Redis no longer holds",
        parameters: [nameParam, runIdParam],
        requestBody: body(apiInputs.rerun),
        responses: {
          '201': json(rerunView, 'the new run, queued'),
          ...errors,
          ...conflict('the run has not finished: cancel it first, or wait'),
        },
      },
    },
    '/schedules/{name}/runs/{runId}/mark': {
      post: {
        operationId: 'markRun',
        summary:
          'Mark a finished run completed or failed by hand, with an optional note; who, when and the state it had are kept (`marked`)',
        parameters: [nameParam, runIdParam],
        requestBody: { ...body(apiInputs.mark), required: true },
        responses: {
          '200': json(runSummary, 'the run, marked'),
          ...errors,
          ...conflict('the run has not finished (cancel it first), or is in that state already'),
        },
      },
    },
    '/schedules/{name}/runs/{runId}/note': {
      post: {
        operationId: 'noteRun',
        summary: "Set a run's note (any state; at most 2,000 characters; empty clears it), with who and when",
        parameters: [nameParam, runIdParam],
        requestBody: { ...body(apiInputs.note), required: true },
        responses: { '200': json(runSummary, 'the run, with its note'), ...errors },
      },
    },
    '/schedules/{name}/runs/bulk': {
      post: {
        operationId: 'rerunOrCancelRuns',
        summary: `Re-run or cancel every run of the schedule a filter takes (states, window range; at most ${MAX_BULK_RUNS}), oldest first: first with dryRun for the count, then with expect set to it`,
        parameters: [nameParam],
        requestBody: { ...body(apiInputs.bulk), required: true },
        responses: {
          '200': json(bulkView, 'a dry run (the runs, counted), a cancel, or a re-run that took no run'),
          '201': json(bulkView, 'the re-runs, queued: each run with its rerunId'),
          ...errors,
          ...conflict('the filter takes another number of runs than `expect`: nothing was done'),
        },
      },
    },
  };
}

function buildDocument() {
  return {
    openapi: '3.0.3',
    info: {
      title: 'tickflow',
      version: '1',
      description:
        'Schedules, their switches and their runs. Writes need content-type: application/json, the operator ' +
        'role and, when credentials are configured, HTTP basic (a user of WEB_USERS_FILE, or ' +
        'WEB_USERNAME/WEB_PASSWORD) or a Bearer token (`tickflow users token`, or API_TOKEN). URLs in answers ' +
        'are shown as their origin only.',
    },
    servers: [{ url: API_PATH }],
    components: {
      securitySchemes: {
        basic: { type: 'http', scheme: 'basic' },
        bearer: { type: 'http', scheme: 'bearer' },
      },
    },
    security: [{ basic: [] }, { bearer: [] }],
    paths: {
      '/me': {
        get: {
          operationId: 'getSession',
          summary: 'Who the credentials name, their role (viewer, operator, admin) and what they may do',
          responses: { '200': json(sessionView, 'the caller'), ...errors },
        },
      },
      '/schedules': {
        get: {
          operationId: 'listSchedules',
          summary: 'List schedules: switch, cadence, next run, last run; with ?window=, their recent runs',
          parameters: queryOf(apiInputs.listSchedules),
          responses: { '200': json(schedulesView, 'the schedules'), ...errors },
        },
      },
      '/schedules/{name}': {
        get: {
          operationId: 'getSchedule',
          summary: 'One schedule',
          parameters: [nameParam],
          responses: { '200': json(scheduleView, 'the schedule'), ...errors },
        },
      },
      '/schedules/{name}/pause': {
        post: {
          operationId: 'pauseSchedule',
          summary: 'Switch the schedule off (recorded in PostgreSQL; survives restarts and Redis loss)',
          parameters: [nameParam],
          requestBody: body(apiInputs.pause),
          responses: { '200': json(scheduleView, 'the schedule, paused'), ...errors },
        },
      },
      '/schedules/{name}/resume': {
        post: {
          operationId: 'resumeSchedule',
          summary:
            'Switch the schedule on: the run the pause held (or, per its catchup:, the missed windows), then its cadence',
          parameters: [nameParam],
          requestBody: body(apiInputs.resume),
          responses: { '200': json(scheduleView, 'the schedule, on'), ...errors },
        },
      },
      '/schedules/{name}/runs': {
        get: {
          operationId: 'listRuns',
          summary: "A page of the schedule's runs, newest first",
          parameters: [nameParam, ...queryOf(apiInputs.listRuns)],
          responses: { '200': json(runPage, 'the runs'), ...errors },
        },
        post: {
          operationId: 'triggerRun',
          summary:
            "Trigger a run now with the schedule's params and these overrides: only the params the schedule lets a caller override (its `overridable`, else its job's harmless ones), checked by the job's schema; at most MANUAL_RUNS_QUEUED_MAX queued per caller (429). Operator role",
          parameters: [nameParam],
          requestBody: body(apiInputs.trigger),
          responses: { '201': json(triggeredRun, 'the run, queued'), ...errors },
        },
      },
      '/schedules/{name}/backfill': {
        post: {
          operationId: 'backfillSchedule',
          summary:
            "Queue one run per window of the schedule's cadence in [from, to), oldest first, behind its live runs; with dryRun, only list them",
          parameters: [nameParam],
          requestBody: { ...body(apiInputs.backfill), required: true },
          responses: {
            '201': json(backfillView, 'the runs, queued, with their windows; `id` cancels them'),
            '200': json(backfillView, 'nothing queued: a dry run, or every window skipped by reprocess'),
            ...errors,
          },
        },
      },
      '/schedules/{name}/backfills/{id}': {
        delete: {
          operationId: 'cancelBackfill',
          summary:
            'Cancel a backfill: its runs not started yet leave the queue and are recorded as cancelled; started ones run to completion',
          parameters: [nameParam, backfillIdParam],
          responses: {
            '200': json(cancelledBackfill, 'how many runs were dropped, and how many had started'),
            ...errors,
            '404': json(errorView, 'no such schedule, or no backfill of it with that id'),
          },
        },
      },
      '/schedules/{name}/runs/{runId}': {
        get: {
          operationId: 'getRun',
          summary: 'One run: params, result, error, attempts, log lines',
          parameters: [nameParam, runIdParam],
          responses: { '200': json(runDetail, 'the run'), ...errors },
        },
      },
      ...runActionPaths(),
      '/audit': {
        get: {
          operationId: 'listAuditEntries',
          summary:
            'The audit log, newest first: every change with who, when and what (pauses, triggers, backfills, run actions, Bull Board actions, schedules.yaml edits with their diff)',
          parameters: queryOf(apiInputs.audit),
          responses: { '200': json(auditPage, 'a page of entries'), ...errors },
        },
      },
      '/operations': {
        get: {
          operationId: 'getOperations',
          summary:
            'The operations page: throughput, fraud rate and volume by market from the rollups, consumer lag, recent alerts',
          parameters: queryOf(apiInputs.operations),
          responses: { '200': json(operationsView, 'the figures (the same answer for 2 s)'), ...errors },
        },
      },
    },
  };
}
