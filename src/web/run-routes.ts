import type express from 'express';
import type { Request, RequestHandler, Response } from 'express';
import { bulkRuns } from '../control/bulk-runs';
import { cancelRun } from '../control/cancel-run';
import type { Control } from '../control/control';
import { markRun } from '../control/mark-run';
import { noteRun } from '../control/note-run';
import { rerunRun } from '../control/rerun';
import { apiInputs } from './api-inputs';
import { jsonBody } from './json';

/** How the API answers a route: its result as JSON, its error as `{ error, issues? }`. */
type Route = (work: (req: Request, res: Response) => Promise<unknown>) => RequestHandler;

export interface RunActionRoutes {
  route: Route;
  /** Who asks, as a run records it: api:<user>. */
  by: (res: Response) => string;
  /** What a change needs of the caller (a role), naming the action: required, so no route is left open. */
  guard: (what: string) => RequestHandler;
}

/**
 * The run actions of the REST API: cancel, re-run, mark and note one run, and re-run or cancel the
 * runs a filter takes (a dry run counts them first). Each is one control-plane function, the same
 * the CLI and the grid call; a 409 says the run's state does not allow it.
 */
export function mountRunActions(router: express.Router, control: Control, parts: RunActionRoutes): void {
  const { route, by, guard } = parts;
  const name = (req: Request) => String(req.params.name);
  const runId = (req: Request) => String(req.params.runId);

  router.post(
    '/schedules/:name/runs/bulk',
    guard('re-running or cancelling runs'),
    ...jsonBody,
    route(async (req, res) => {
      const { state, ...request } = apiInputs.bulk.parse(req.body ?? {});
      const done = await bulkRuns(control, name(req), {
        ...request,
        ...(state ? { states: state } : {}),
        by: by(res),
      });
      if (!done.dryRun && done.action === 'rerun' && done.matched > 0) res.status(201);
      return done;
    }),
  );
  router.post(
    '/schedules/:name/runs/:runId/cancel',
    guard('cancelling a run'),
    ...jsonBody,
    route(async (req, res) => {
      apiInputs.cancelRun.parse(req.body ?? {});
      const cancelled = await cancelRun(control, name(req), runId(req), { by: by(res) });
      // Accepted: a worker has the run and aborts it as soon as it sees the request.
      if (cancelled.outcome === 'requested') res.status(202);
      return cancelled;
    }),
  );
  router.post(
    '/schedules/:name/runs/:runId/rerun',
    guard('re-running a run'),
    ...jsonBody,
    route(async (req, res) => {
      const { currentParams } = apiInputs.rerun.parse(req.body ?? {});
      const rerun = await rerunRun(control, name(req), runId(req), { by: by(res), currentParams });
      res.status(201);
      return rerun;
    }),
  );
  router.post(
    '/schedules/:name/runs/:runId/mark',
    guard('marking a run'),
    ...jsonBody,
    route(async (req, res) => {
      const { state, note } = apiInputs.mark.parse(req.body ?? {});
      return markRun(control, name(req), runId(req), { state, by: by(res), ...(note ? { note } : {}) });
    }),
  );
  router.post(
    '/schedules/:name/runs/:runId/note',
    guard('noting a run'),
    ...jsonBody,
    route(async (req, res) => {
      const { note } = apiInputs.note.parse(req.body ?? {});
      return noteRun(control, name(req), runId(req), { note, by: by(res) });
    }),
  );
}
