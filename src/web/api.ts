import express, { type Request, type Response } from 'express';
import { z } from 'zod';
import type { Control } from '../control/control';
import { getRun, listRuns } from '../control/runs';
import { getSchedule, listSchedules } from '../control/schedules';
import { setPaused } from '../control/toggle';
import { triggerRun } from '../control/trigger';
import { RUN_STATES } from '../control/views';
import type { Logger } from '../log/logger';
import { parseDuration } from '../schedules/duration';
import { userOf } from './auth';
import { httpErrorOf } from './errors';
import { openApiDocument } from './openapi';

export const API_PATH = '/api/v1';

/** At most this many runs per schedule in the grid's window: more would not fit a row anyway. */
export const MAX_PER_ROW = 500;
const MAX_WINDOW_MS = 7 * 24 * 3_600_000;

const states = z
  .string()
  .transform((text) => text.split(',').filter(Boolean))
  .pipe(
    z.array(z.enum(RUN_STATES, { error: `expected a comma-separated list of ${RUN_STATES.join(', ')}` })),
  );

const windowDuration = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0 || ms > MAX_WINDOW_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected a duration up to 7d, e.g. 5m or 1h' });
    return z.NEVER;
  }
  return ms;
});

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
  listRuns: z.strictObject({
    state: states.optional(),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    before: z.string().optional().describe('the `next` of the previous page'),
  }),
};

/**
 * The REST API: JSON in and out, zod-validated, one control-plane function per route (the same
 * ones the CLI and the grid use). Errors are `{ error, issues? }` with 400, 401, 403 or 404.
 */
export function apiRouter(control: Control, log: Logger): express.Router {
  const router = express.Router();
  const route = routeWith(log);
  router.use(express.json({ limit: '100kb' }));
  const by = (res: Response) => `api:${userOf(res)}`;
  const name = (req: Request) => String(req.params.name);

  router.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument());
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
    jsonOnly,
    route((req, res) =>
      setPaused(control, name(req), { paused: true, by: by(res), ...apiInputs.pause.parse(req.body ?? {}) }),
    ),
  );
  router.post(
    '/schedules/:name/resume',
    jsonOnly,
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
    jsonOnly,
    route(async (req, res) => {
      const { params } = apiInputs.trigger.parse(req.body ?? {});
      res.status(201);
      return triggerRun(control, name(req), { params, by: by(res) });
    }),
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
  router.use((_req, res) => {
    res.status(404).json({ error: `no such API route; see ${API_PATH}/openapi.json` });
  });
  return router;
}

/** A route's answer as JSON, or its error as `{ error, issues? }` with the status it maps to. */
const routeWith = (log: Logger) => (work: (req: Request, res: Response) => Promise<unknown>) => {
  return async (req: Request, res: Response) => {
    try {
      res.json(await work(req, res));
    } catch (error) {
      const { status, body } = httpErrorOf(error);
      if (status === 500) log.error({ err: error, path: req.path }, 'API request failed');
      res.status(status).json(body);
    }
  };
};

/** A JSON body only: a cross-site form cannot send one without a CORS preflight, which we never allow. */
function jsonOnly(req: Request, res: Response, next: () => void): void {
  if (req.is('application/json')) next();
  else
    res
      .status(415)
      .json({ error: 'send the body as JSON with content-type: application/json (it may be {})' });
}
