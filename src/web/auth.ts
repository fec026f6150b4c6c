import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { WebConfig } from '../config/config';

/** Who made a request: the basic-auth user, `token` for the Bearer token, `local` without auth. */
export const userOf = (res: Response): string => String(res.locals.user ?? 'local');

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|::1|\[::1\])$/i;

/**
 * Off loopback, a web UI without credentials would let anyone who reaches the port pause, clean
 * and run jobs with any params: refuse to start, naming the variables that fix it.
 */
export function assertSafeToServe(web: Pick<WebConfig, 'host' | 'auth'>, what = 'the web UI'): void {
  const { username, password, token } = web.auth;
  if (LOOPBACK.test(web.host) || (username && password) || token) return;
  throw new Error(
    `refusing to serve ${what} on WEB_HOST=${web.host} without credentials: anyone who reaches it could ` +
      'pause schedules and run jobs. Set WEB_USERNAME and WEB_PASSWORD (HTTP basic) and/or API_TOKEN ' +
      '(Bearer), or serve on 127.0.0.1',
  );
}

const same = (given: string, expected: string) => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** The user a request's Authorization header proves, or undefined. */
function authenticate(header: string | undefined, auth: WebConfig['auth']): string | undefined {
  const [scheme, value = ''] = (header ?? '').split(' ', 2);
  if (scheme?.toLowerCase() === 'bearer' && auth.token && same(value, auth.token)) return 'token';
  if (scheme?.toLowerCase() === 'basic' && auth.username && auth.password) {
    const decoded = Buffer.from(value, 'base64').toString();
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    if (colon > 0 && same(user, auth.username) && same(decoded.slice(colon + 1), auth.password)) return user;
  }
  return undefined;
}

/** HTTP basic and/or Bearer auth, when configured; a browser gets the basic-auth prompt. */
export function requireCredentials(auth: WebConfig['auth']): RequestHandler {
  const configured = Boolean((auth.username && auth.password) || auth.token);
  return (req: Request, res: Response, next: NextFunction) => {
    if (!configured) {
      next();
      return;
    }
    const user = authenticate(req.headers.authorization, auth);
    if (user) {
      res.locals.user = user;
      next();
      return;
    }
    const accepted = [
      auth.username ? 'HTTP basic (WEB_USERNAME/WEB_PASSWORD)' : undefined,
      auth.token ? 'Authorization: Bearer <API_TOKEN>' : undefined,
    ].filter(Boolean);
    const challenge = auth.username ? 'Basic realm="tickflow", charset="UTF-8"' : 'Bearer realm="tickflow"';
    res
      .status(401)
      .set('WWW-Authenticate', challenge)
      .json({ error: `credentials required: ${accepted.join(' or ')}` });
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Browsers send basic-auth credentials with any request to this origin, including ones a hostile
 * page makes: a request that changes state must come from this origin (CSRF protection).
 */
export function sameOriginWrites(req: Request, res: Response, next: NextFunction): void {
  if (SAFE_METHODS.has(req.method)) {
    next();
    return;
  }
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  const crossOrigin = origin ? hostOf(origin) !== req.headers.host : site === 'cross-site';
  if (crossOrigin) res.status(403).json({ error: 'cross-origin requests may not change state' });
  else next();
}

function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
