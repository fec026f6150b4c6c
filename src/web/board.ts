import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import { cancelIfUnfinished } from '../control/cancel-run';
import type { Control } from '../control/control';
import { ReadOnlyError } from '../control/errors';
import { knownNames } from '../control/schedules';
import { setPaused } from '../control/toggle';
import { triggerRun } from '../control/trigger';
import { redactUrls } from '../redact';
import { callerOf, roleRefusal, userOf } from './auth';
import { auditBoardActions } from './board-audit';
import { httpErrorOf } from './errors';
import { jsonBody, jsonErrors } from './json';
import { allows, type Role } from './users-file';

export const BOARD_PATH = '/ui';

const MOVES_SLOT =
  "this would move a scheduled run's time, which schedules.yaml owns: use Run now (or Trigger in the grid) to run it now";

const OWNED_BY_FILE =
  'schedules.yaml owns timing, params and overlap: edit the file (the scheduler applies it within 2 s); ' +
  'a change made here would be undone by the next reconcile';

/** What tickflow does in place of Bull Board's own handler: through the control plane. */
type Through = 'pauseAll' | 'resumeAll' | 'pause' | 'resume' | 'runNow' | 'add' | 'remove';

type Method = 'get' | 'put' | 'patch' | 'post';

/** A Bull Board API route tickflow serves: to whom, and through the control plane or by Bull Board. */
interface OfferedRoute {
  method: Method;
  path: string;
  role: Role;
  /** For the 403 of a role that may not: "pausing a schedule needs the operator role". */
  what: string;
  through?: Through;
}

/** A Bull Board API route tickflow refuses (403), and why. */
interface RefusedRoute {
  method: Method;
  path: string;
  refused: string;
}

export type BoardRoute = OfferedRoute | RefusedRoute;

const read = (method: Method, path: string): OfferedRoute => ({
  method,
  path,
  role: 'viewer',
  what: 'reading',
});
const operate = (method: Method, path: string, what: string, through?: Through): OfferedRoute => ({
  method,
  path,
  role: 'operator',
  what,
  ...(through ? { through } : {}),
});

/**
 * Every route of Bull Board's API (@bull-board/api's appRoutes, in its order, so that a request
 * matches here the route Bull Board would serve it with), reviewed: who may call it, whether
 * it goes through tickflow's control plane (so a pause is recorded in PostgreSQL and a run's params
 * are checked like any trigger's), or why it is refused. A route not listed here is refused: a new
 * Bull Board version's routes stay closed until reviewed (a test pins this list to Bull Board's).
 */
export const BOARD_ROUTES: readonly BoardRoute[] = [
  read('get', '/api/redis/stats'),
  read('get', '/api/queues'),
  read('get', '/api/job-schedulers'),
  read('get', '/api/queues/:queueName/metrics'),
  read('get', '/api/queues/:queueName/default-job-options'),
  read('get', '/api/queues/:queueName/workers'),
  read('get', '/api/queues/:queueName/rate-limit'),
  read('get', '/api/queues/:queueName/job-data-schema'),
  operate('put', '/api/queues/pause', 'pausing schedules', 'pauseAll'),
  operate('put', '/api/queues/resume', 'resuming schedules', 'resumeAll'),
  read('get', '/api/queues/:queueName/:jobId/logs'),
  read('get', '/api/queues/:queueName/:jobId/flow'),
  read('get', '/api/queues/:queueName/:jobId'),
  operate('post', '/api/queues/:queueName/add', 'triggering a run', 'add'),
  // A retry runs a run again with the params it was checked with when it was triggered.
  operate('put', '/api/queues/:queueName/retry/:queueStatus', 're-running runs'),
  { method: 'put', path: '/api/queues/:queueName/promote', refused: MOVES_SLOT },
  {
    method: 'put',
    path: '/api/queues/:queueName/clean/:queueStatus',
    role: 'admin',
    what: "removing a schedule's runs in bulk from Bull Board",
  },
  operate('put', '/api/queues/:queueName/pause', 'pausing a schedule', 'pause'),
  operate('put', '/api/queues/:queueName/resume', 'resuming a schedule', 'resume'),
  { method: 'put', path: '/api/queues/:queueName/concurrency', refused: OWNED_BY_FILE },
  {
    method: 'put',
    path: '/api/queues/:queueName/rate-limit',
    refused: `a rate limit is a pause nobody records: pause the schedule instead. ${OWNED_BY_FILE}`,
  },
  {
    method: 'put',
    path: '/api/queues/:queueName/rate-limit/release',
    refused: 'tickflow sets no rate limits: pause and resume the schedule instead',
  },
  {
    method: 'put',
    path: '/api/queues/:queueName/empty',
    refused: `emptying a queue also drops the runs its job scheduler and a pause hold. ${OWNED_BY_FILE}`,
  },
  { method: 'put', path: '/api/queues/:queueName/obliterate', refused: OWNED_BY_FILE },
  {
    method: 'put',
    path: '/api/queues/:queueName/job-schedulers/:schedulerId/remove',
    refused: OWNED_BY_FILE,
  },
  { method: 'patch', path: '/api/queues/:queueName/job-schedulers/:schedulerId', refused: OWNED_BY_FILE },
  operate('put', '/api/queues/:queueName/job-schedulers/:schedulerId/run', 'triggering a run', 'runNow'),
  operate('put', '/api/queues/:queueName/:jobId/retry', 're-running a run'),
  // Removing a run that waits or runs cancels it (cancelRun: recorded cancelled, by whom, on whichever
  // worker holds it); a finished one leaves Redis, and PostgreSQL keeps its history.
  operate('put', '/api/queues/:queueName/:jobId/clean', 'cancelling or removing a run', 'remove'),
  { method: 'put', path: '/api/queues/:queueName/:jobId/promote', refused: MOVES_SLOT },
  {
    method: 'patch',
    path: '/api/queues/:queueName/:jobId/update-data',
    refused: "a run's params are checked when it is triggered: trigger a new run with the params instead",
  },
  { method: 'patch', path: '/api/queues/:queueName/:jobId/delay', refused: MOVES_SLOT },
  {
    method: 'patch',
    path: '/api/queues/:queueName/:jobId/priority',
    refused: 'tickflow sets priorities: live runs go before backfill and catch-up runs',
  },
  {
    method: 'put',
    path: '/api/queues/:queueName/:jobId/remove-unprocessed-children',
    refused: 'tickflow runs no flows: no run has children',
  },
];

/** Bull Board's "Add job" body; its data are the run's params. */
const addJobBody = z.object({
  name: z.string().optional(),
  data: z.record(z.string(), z.unknown(), { error: 'expected the params as a JSON object' }).default({}),
  options: z.unknown().optional(),
});

export interface Board {
  router: express.Router;
  /** Call after every reconcile so Bull Board shows exactly the current schedule queues. */
  setQueues(queues: Queue[]): void;
}

/**
 * Bull Board, one queue per schedule, made coherent with the control plane and behind tickflow's
 * own checks: only the reviewed routes of BOARD_ROUTES are served, each for the roles it names;
 * pause/resume, "Run now" and "Add job" go through the same operations as the CLI and the API; the
 * edits the reconciler would undo are refused with the reason; read-only is enforced here, not
 * left to Bull Board. Its answers show URLs as their origin only, and a viewer sees it read-only.
 */
export function createBoard(control: Control): Board {
  const readOnly = control.readOnly ?? false;
  const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: {
      uiConfig: {
        boardTitle: 'tickflow',
        miscLinks: [{ text: 'Schedules grid', url: '/schedules' }],
        hideDocsLink: true,
      },
    },
  });
  const router = express.Router();
  router.use(withoutExternalFonts);
  router.use('/api', asTheCallerMaySee);
  router.use(gate(control, readOnly));
  // Past the gate: what Bull Board does itself (the control plane records the rest).
  router.use(auditBoardActions(control));
  // Bull Board's adapter is an Express app of its own: it must not name Express either.
  const bullBoardApp: express.Express = serverAdapter.getRouter();
  bullBoardApp.disable('x-powered-by');
  router.use(bullBoardApp);
  return {
    router,
    setQueues: (queues) =>
      board.replaceQueues(queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: readOnly }))),
  };
}

/** The reviewed routes, each behind its role; what is not reviewed is refused. */
function gate(control: Control, readOnly: boolean): express.Router {
  const router = express.Router();
  const handlers = throughControl(control);
  // On to Bull Board's own router, past the rest of this one.
  const toBullBoard: RequestHandler = (_req, _res, next) => next('router');
  for (const route of BOARD_ROUTES) {
    if ('refused' in route) {
      router[route.method](route.path, refuse('Not offered by tickflow', route.refused));
      continue;
    }
    const checks = [roleFor(route)];
    if (readOnly && route.role !== 'viewer') checks.push(refuse('Read-only', new ReadOnlyError().message));
    router[route.method](route.path, ...checks, route.through ? handlers[route.through] : toBullBoard);
  }
  router.all(
    '/api/{*rest}',
    refuse('Not offered by tickflow', 'this Bull Board route is not one tickflow serves'),
  );
  // Pages and their assets: anyone who may read.
  router.get('/{*page}', toBullBoard);
  router.all('/{*rest}', refuse('Not offered by tickflow', 'only reading is offered outside the API'));
  router.use(jsonErrors);
  return router;
}

function roleFor(route: OfferedRoute): RequestHandler {
  return (_req, res, next) => {
    const caller = callerOf(res);
    if (allows(caller.role, route.role)) next();
    else res.status(403).json({ error: 'Not allowed', message: roleRefusal(caller, route.role, route.what) });
  };
}

const refuse =
  (error: string, message: string): RequestHandler =>
  (_req, res) => {
    // Bull Board shows `error` as the toast's title and `message` as its text.
    res.status(403).json({ error, message });
  };

function throughControl(control: Control): Record<Through, RequestHandler[]> {
  const by = (res: Response) => `bull-board:${userOf(res)}`;
  const answer =
    (work: (req: Request, res: Response) => Promise<unknown>): RequestHandler =>
    async (req, res) => {
      try {
        res.json((await work(req, res)) ?? {});
      } catch (error) {
        const { status, body } = httpErrorOf(error);
        res.status(status).json({
          error: body.error,
          message: body.issues?.map((i) => `${i.field}: ${i.message}`).join('; '),
        });
      }
    };
  const toggle = (paused: boolean) =>
    answer((req, res) =>
      setPaused(control, String(req.params.queueName), {
        paused,
        by: by(res),
        note: paused ? 'paused in Bull Board' : undefined,
      }),
    );
  const toggleAll = (paused: boolean) =>
    answer(async (_req, res) => {
      // Every schedule is tried, whichever fails: one refused switch must not leave the rest
      // untouched. One at a time: each holds its schedule's row lock on a pool connection.
      const failed: string[] = [];
      for (const name of await knownNames(control)) {
        await setPaused(control, name, { paused, by: by(res) }).catch(() => failed.push(name));
      }
      if (failed.length) throw new Error(`could not switch ${failed.join(', ')}; the others are switched`);
    });
  const remove: RequestHandler = async (req, res, next) => {
    const name = String(req.params.queueName);
    const runId = String(req.params.jobId);
    try {
      const cancelled = await cancelIfUnfinished(control, name, runId, { by: by(res) });
      if (cancelled) res.status(204).end();
      else next('router');
    } catch (error) {
      const { status, body } = httpErrorOf(error);
      res.status(status).json({ error: body.error, message: body.error });
    }
  };
  return {
    pauseAll: [toggleAll(true)],
    resumeAll: [toggleAll(false)],
    pause: [toggle(true)],
    resume: [toggle(false)],
    runNow: [answer((req, res) => triggerRun(control, String(req.params.queueName), { by: by(res) }))],
    remove: [remove],
    add: [
      ...jsonBody,
      answer(async (req, res) => {
        const { data: params } = addJobBody.parse(req.body);
        const run = await triggerRun(control, String(req.params.queueName), { params, by: by(res) });
        return { job: { id: run.runId, data: run.params }, status: 'waiting' };
      }),
    ],
  };
}

/**
 * Bull Board's JSON answers as the caller may see them: URLs (a predictor's, in a run's params or
 * error) as their origin only; for a role that may not change anything, every queue read-only, so
 * Bull Board's UI offers no button that would be refused.
 */
function asTheCallerMaySee(_req: Request, res: Response, next: NextFunction): void {
  const json = res.json.bind(res);
  res.json = (body?: unknown) => {
    const shown = redactUrls(body);
    if (!allows(callerOf(res).role, 'operator')) readOnlyQueues(shown);
    return json(shown);
  };
  next();
}

function readOnlyQueues(body: unknown): void {
  const queues = (body as { queues?: unknown } | undefined)?.queues;
  if (!Array.isArray(queues)) return;
  for (const queue of queues) {
    if (queue && typeof queue === 'object')
      Object.assign(queue, { readOnlyMode: true, allowRetries: false, allowCompletedRetries: false });
  }
}

/** Bull Board's page links Google Fonts; offline that is a console error, and the CSS falls back to system fonts. */
function withoutExternalFonts(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' && !req.path.startsWith('/api') && !req.path.startsWith('/static')) {
    const send = res.send.bind(res);
    res.send = (body?: unknown) =>
      send(
        typeof body === 'string'
          ? body.replace(/<link[^>]+fonts\.(googleapis|gstatic)\.com[^>]*>/g, '')
          : body,
      );
  }
  next();
}
