import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Control } from '../control/control';
import { knownNames } from '../control/schedules';
import { setPaused } from '../control/toggle';
import { triggerRun } from '../control/trigger';
import { userOf } from './auth';
import { httpErrorOf } from './errors';
import { jsonBody, jsonErrors } from './json';

export const BOARD_PATH = '/ui';

const MOVES_SLOT =
  "this would move a scheduled run's time, which schedules.yaml owns: use Run now (or Trigger in the grid) to run it now";

const OWNED_BY_FILE =
  'schedules.yaml owns timing, params and overlap: edit the file (the scheduler applies it within 2 s); ' +
  'a change made here would be undone by the next reconcile';

/** Bull Board routes that would change what the reconciler owns, or bypass the params check. */
const REFUSED: [method: 'put' | 'patch', path: string, why: string][] = [
  ['patch', '/api/queues/:queueName/job-schedulers/:schedulerId', OWNED_BY_FILE],
  ['put', '/api/queues/:queueName/job-schedulers/:schedulerId/remove', OWNED_BY_FILE],
  ['put', '/api/queues/:queueName/concurrency', OWNED_BY_FILE],
  ['put', '/api/queues/:queueName/obliterate', OWNED_BY_FILE],
  [
    'put',
    '/api/queues/:queueName/rate-limit',
    `a rate limit is a pause nobody records: pause the schedule instead. ${OWNED_BY_FILE}`,
  ],
  ['put', '/api/queues/:queueName/promote', MOVES_SLOT],
  ['put', '/api/queues/:queueName/:jobId/promote', MOVES_SLOT],
  ['patch', '/api/queues/:queueName/:jobId/delay', MOVES_SLOT],
  [
    'patch',
    '/api/queues/:queueName/:jobId/update-data',
    "a run's params are checked when it is triggered: trigger a new run with the params instead",
  ],
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
 * Bull Board, one queue per schedule, made coherent with the control plane: its pause/resume,
 * "Run now" and "Add job" go through the same operations as the CLI and the API (so a pause is
 * recorded in PostgreSQL and a run's params are checked), and the edits the reconciler would undo
 * are refused with the reason. Read-only mode is Bull Board's own, enforced on its server side too.
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
  if (!readOnly) routeThroughControl(router, control);
  router.use(serverAdapter.getRouter());
  return {
    router,
    setQueues: (queues) =>
      board.replaceQueues(queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: readOnly }))),
  };
}

function routeThroughControl(router: express.Router, control: Control): void {
  const by = (res: Response) => `bull-board:${userOf(res)}`;
  const answer =
    (work: (req: Request, res: Response) => Promise<unknown>) => async (req: Request, res: Response) => {
      try {
        res.json((await work(req, res)) ?? {});
      } catch (error) {
        const { status, body } = httpErrorOf(error);
        // Bull Board shows `error` as the toast's title and `message` as its text.
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
      for (const name of await knownNames(control)) await setPaused(control, name, { paused, by: by(res) });
    });
  router.put('/api/queues/pause', toggleAll(true));
  router.put('/api/queues/resume', toggleAll(false));
  router.put('/api/queues/:queueName/pause', toggle(true));
  router.put('/api/queues/:queueName/resume', toggle(false));
  router.put(
    '/api/queues/:queueName/job-schedulers/:schedulerId/run',
    answer((req, res) => triggerRun(control, String(req.params.queueName), { by: by(res) })),
  );
  router.post(
    '/api/queues/:queueName/add',
    ...jsonBody,
    answer(async (req, res) => {
      const { data: params } = addJobBody.parse(req.body);
      const run = await triggerRun(control, String(req.params.queueName), { params, by: by(res) });
      return { job: { id: run.runId, data: run.params }, status: 'waiting' };
    }),
  );
  for (const [method, path, why] of REFUSED) {
    router[method](path, (_req: Request, res: Response) => {
      res.status(403).json({ error: 'Not offered by tickflow', message: why });
    });
  }
  router.use(jsonErrors);
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
