import express, { type Request, type Response } from 'express';
import { listAudit } from '../control/audit';
import { backfill } from '../control/backfill';
import { cancelBackfill } from '../control/cancel-backfill';
import type { Control } from '../control/control';
import { operationsOverview } from '../control/operations';
import { getRun, listRuns } from '../control/runs';
import { getSchedule, listSchedules } from '../control/schedules';
import { setPaused } from '../control/toggle';
import { triggerRun } from '../control/trigger';
import type { Logger } from '../log/logger';
import { redactUrls } from '../redact';
import { API_PATH, apiInputs } from './api-inputs';
import { callerOf, requireRole, userOf } from './auth';
import { httpErrorOf } from './errors';
import { jsonBody, jsonErrors } from './json';
import { openApiDocument } from './openapi';
import { mountRunActions } from './run-routes';
import { sessionOf } from './session';
import { sharedAnswers } from './shared-answers';

/** The operations page polls every few seconds, from any number of browsers: one computation per 2 s. */
const OPERATIONS_TTL_MS = 2_000;

/**
 * The REST API: JSON in and out, zod-validated, one control-plane function per route (the same
 * ones the CLI and the grid use). Every write needs the operator role. Answers show URLs as their
 * origin only. Errors are `{ error, issues? }` with 400, 401, 403, 404, 421 or 429.
 */
export function apiRouter(control: Control, log: Logger): express.Router {
  const router = express.Router();
  const route = routeWith(log);
  const by = (res: Response) => `api:${userOf(res)}`;
  const name = (req: Request) => String(req.params.name);
  const operator = (what: string) => requireRole('operator', what);

  router.use((_req, res, next) => {
    // Answers depend on who asks: never kept by a browser or a proxy.
    res.set('Cache-Control', 'no-store');
    next();
  });
  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
  });
  router.get('/me', (_req, res) => {
    const caller = callerOf(res);
    res.json(sessionOf(caller, control.readOnly ?? false));
  });
  router.get(
    '/schedules',
    route(async (req) => {
      const query = apiInputs.listSchedules.parse(req.query);
      if (query.window === undefined) return listSchedules(control);
      const to = new Date();
      return listSchedules(control, {
        from: new Date(to.getTime() - query.window),
        to,
        perRow: query.perRow,
        ...(query.state?.length ? { states: query.state } : {}),
      });
    }),
  );
  router.get(
    '/schedules/:name',
    route((req) => getSchedule(control, name(req))),
  );
  router.post(
    '/schedules/:name/pause',
    operator('pausing a schedule'),
    ...jsonBody,
    route((req, res) =>
      setPaused(control, name(req), { paused: true, by: by(res), ...apiInputs.pause.parse(req.body ?? {}) }),
    ),
  );
  router.post(
    '/schedules/:name/resume',
    operator('resuming a schedule'),
    ...jsonBody,
    route((req, res) =>
      setPaused(control, name(req), {
        paused: false,
        by: by(res),
        ...apiInputs.resume.parse(req.body ?? {}),
      }),
    ),
  );
  router.post(
    '/schedules/:name/runs',
    operator('triggering a run'),
    ...jsonBody,
    route(async (req, res) => {
      const { params } = apiInputs.trigger.parse(req.body ?? {});
      res.status(201);
      return triggerRun(control, name(req), { params, by: by(res) });
    }),
  );
  router.post(
    '/schedules/:name/backfill',
    operator('a backfill'),
    ...jsonBody,
    route(async (req, res) => {
      const request = apiInputs.backfill.parse(req.body ?? {});
      const done = await backfill(control, name(req), { ...request, by: by(res) });
      // Created: a backfill with an id; a dry run (or one with every window skipped) made nothing.
      res.status(done.id ? 201 : 200);
      return done;
    }),
  );
  router.delete(
    '/schedules/:name/backfills/:id',
    operator('cancelling a backfill'),
    route((req, res) => cancelBackfill(control, name(req), { id: String(req.params.id), by: by(res) })),
  );
  router.get(
    '/schedules/:name/runs',
    route((req) => {
      const query = apiInputs.listRuns.parse(req.query);
      return listRuns(control, name(req), {
        limit: query.limit,
        ...(query.state?.length ? { states: query.state } : {}),
        ...(query.before ? { before: query.before } : {}),
      });
    }),
  );
  router.get(
    '/schedules/:name/runs/:runId',
    route((req) => getRun(control, name(req), String(req.params.runId))),
  );
  mountRunActions(router, control, { route, by, guard: operator });
  router.get(
    '/audit',
    route((req) => {
      const { since, ...query } = apiInputs.audit.parse(req.query);
      return listAudit(control, { ...query, ...(since ? { since } : {}) });
    }),
  );
  const operations = sharedAnswers<Awaited<ReturnType<typeof operationsOverview>>>(OPERATIONS_TTL_MS);
  router.get(
    '/operations',
    route((req) => {
      const query = apiInputs.operations.parse(req.query);
      return operations(`${query.span}|${query.windowSize}`, () =>
        operationsOverview(control, { spanMs: query.span, windowMs: query.windowSize }),
      );
    }),
  );
  router.use((_req, res) => {
    res.status(404).json({ error: `no such API route; see ${API_PATH}/openapi.json` });
  });
  router.use(jsonErrors);
  return router;
}

/** A route's answer as JSON, or its error as `{ error, issues? }` with the status it maps to. */
const routeWith = (log: Logger) => (work: (req: Request, res: Response) => Promise<unknown>) => {
  return async (req: Request, res: Response) => {
    try {
      res.json(redactUrls(await work(req, res)));
    } catch (error) {
      const { status, body } = httpErrorOf(error);
      if (status === 500) log.error({ err: error, path: req.path }, 'API request failed');
      res.status(status).json(body);
    }
  };
};
