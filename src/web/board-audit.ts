import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { recordChange } from '../control/changes';
import type { Control } from '../control/control';
import type { Logger } from '../log/logger';
import { userOf } from './auth';

/** What a Bull Board action Bull Board performs itself is recorded as: its action and its line. */
interface BoardAction {
  action: string;
  schedule: string;
  runId?: string;
  what: string;
}

/** Bull Board's own actions (those tickflow lets it perform), by route under /ui. */
const ACTIONS: [RegExp, (match: string[]) => Omit<BoardAction, 'schedule'>][] = [
  [
    /^\/api\/queues\/([^/]+)\/retry\/([^/]+)$/,
    ([, , status]) => ({ action: 'board:retry-all', what: `re-ran every ${status} run in Bull Board` }),
  ],
  [
    /^\/api\/queues\/([^/]+)\/clean\/([^/]+)$/,
    ([, , status]) => ({
      action: 'board:clean-all',
      what: `removed the ${status} runs from Redis in Bull Board`,
    }),
  ],
  [
    /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/,
    ([, , runId = '']) => ({ action: 'board:retry', runId, what: `re-ran run ${runId} in Bull Board` }),
  ],
  [
    /^\/api\/queues\/([^/]+)\/([^/]+)\/clean$/,
    ([, , runId = '']) => ({
      action: 'board:remove',
      runId,
      what: `removed run ${runId} from Redis in Bull Board`,
    }),
  ],
];

function boardActionOf(req: Request): BoardAction | undefined {
  const path = req.path;
  for (const [pattern, describe] of ACTIONS) {
    const match = pattern.exec(path);
    if (!match) continue;
    const parts = match.map((part) => decodeURIComponent(part));
    return { schedule: parts[1] ?? '', ...describe(parts) };
  }
  // A change tickflow lets through but does not describe yet: recorded as it was asked.
  return { action: 'board:other', schedule: '', what: `${req.method} ${path} in Bull Board` };
}

/**
 * Records in the audit log each change Bull Board makes itself: mounted after tickflow's gate, so
 * it sees only the requests the gate passed on to Bull Board's own handlers (a re-run, a removal of
 * a finished run, a clean), never those that go through the control plane (pause, resume, run now,
 * add, cancel), which record themselves. Recorded once the answer says it was done (below 400),
 * as `bull-board:<user>`.
 */
export function auditBoardActions(control: Control, log?: Logger): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === 'GET' || req.method === 'HEAD' || !req.path.startsWith('/api/')) {
      next();
      return;
    }
    const action = boardActionOf(req);
    res.on('finish', () => {
      if (!action || res.statusCode >= 400) return;
      recordChange(control.db, {
        by: `bull-board:${userOf(res)}`,
        action: action.action,
        schedule: action.schedule || null,
        runId: action.runId ?? null,
        what: action.what,
      }).catch((error: unknown) =>
        log?.warn({ err: error, action: action.action }, 'could not record a Bull Board action'),
      );
    });
    next();
  };
}
