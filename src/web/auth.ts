import { createHash, timingSafeEqual } from 'node:crypto';
import net from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { WebConfig } from '../config/config';

/** Who made a request: the basic-auth user, `token` for the Bearer token, `local` without auth. */
export const userOf = (res: Response): string => String(res.locals.user ?? 'local');

/** localhost, 127.0.0.0/8 or ::1: reachable only from this machine. */
function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return net.isIPv6(host) && new net.SocketAddress({ address: host, family: 'ipv6' }).address === '::1';
}

/**
 * Off loopback, a server without credentials would let anyone who reaches the port in: refuse to
 * start, naming the variables that fix it. `what` and `fix` say which server and the other way out.
 */
export function assertSafeToServe(
  web: Pick<WebConfig, 'host' | 'auth'>,
  what = 'the web UI',
  risk = 'pause schedules and run jobs with params of their choosing',
): void {
  const { username, password, token } = web.auth;
  if (isLoopback(web.host) || (username && password) || token) return;
  throw new Error(
    `refusing to serve ${what} on WEB_HOST=${web.host} without credentials: anyone who reaches it could ${risk}. ` +
      'Set WEB_USERNAME and WEB_PASSWORD (HTTP basic) and/or API_TOKEN (Bearer), or serve on WEB_HOST=127.0.0.1',
  );
}

/** Compares digests, so neither the length nor the content of a secret shows in the time taken. */
const same = (given: string, expected: string) =>
  timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );

/** The user a request's Authorization header proves, or undefined. */
function authenticate(header: string | undefined, auth: WebConfig['auth']): string | undefined {
  const [scheme = '', value = ''] = (header ?? '').split(' ', 2);
  if (scheme.toLowerCase() === 'bearer' && auth.token && same(value, auth.token)) return 'token';
  if (scheme.toLowerCase() === 'basic' && auth.username && auth.password) {
    const decoded = Buffer.from(value, 'base64').toString();
    const colon = decoded.indexOf(':');
    const user = decoded.slice(0, colon);
    // Both compared every time: which of the two was wrong must not show either.
    const userOk = same(user, auth.username);
    const passwordOk = same(decoded.slice(colon + 1), auth.password);
    if (colon > 0 && userOk && passwordOk) return user;
  }
  return undefined;
}

/** HTTP basic and/or Bearer auth, when configured; a browser gets the basic-auth prompt. */
export function requireCredentials(auth: WebConfig['auth']): RequestHandler {
  const configured = Boolean((auth.username && auth.password) || auth.token);
  return (req: Request, res: Response, next: NextFunction) => {
    const user = configured ? authenticate(req.headers.authorization, auth) : 'local';
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
 * page makes: a request that changes state must come from this origin (CSRF protection). Behind a
 * proxy that rewrites Host, WEB_PUBLIC_URL names the origin people use.
 */
export function sameOriginWrites(publicUrl: string | undefined) {
  const publicHost = publicUrl ? new URL(publicUrl).host : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const origin = req.headers.origin;
    const from = origin ? hostOf(origin) : undefined;
    const crossOrigin = origin
      ? from !== req.headers.host && from !== publicHost
      : req.headers['sec-fetch-site'] === 'cross-site';
    if (crossOrigin) res.status(403).json({ error: 'cross-origin requests may not change state' });
    else next();
  };
}

function hostOf(origin: string): string | undefined {
  return URL.canParse(origin) ? new URL(origin).host : undefined;
}
