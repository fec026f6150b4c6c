import express, { type NextFunction, type Request, type Response } from 'express';

/**
 * A JSON body, and only that: a cross-site form cannot send one without a CORS preflight, which
 * tickflow never allows, so a browser's saved credentials cannot be used by another page's form.
 */
export const jsonBody = [
  (req: Request, res: Response, next: NextFunction) => {
    if (req.is('application/json')) next();
    else
      res
        .status(415)
        .json({ error: 'send the body as JSON with content-type: application/json (it may be {})' });
  },
  express.json({ limit: '100kb' }),
];

/** A body that is not JSON or too large, answered as JSON like every other error (not an HTML page). */
export function jsonErrors(error: unknown, _req: Request, res: Response, next: NextFunction): void {
  const type = (error as { type?: string }).type;
  if (type === 'entity.parse.failed') res.status(400).json({ error: 'the body is not valid JSON' });
  else if (type === 'entity.too.large') res.status(413).json({ error: 'the body is over 100 kB' });
  else next(error);
}
