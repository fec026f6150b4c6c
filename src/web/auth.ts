import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { WebConfig } from '../config/config';
import type { Logger } from '../log/logger';
import { LoginThrottle } from './throttle';
import {
  allows,
  hashToken,
  NO_PASSWORD,
  type Role,
  readUsersFile,
  type UsersFile,
  verifyPassword,
} from './users-file';

/** Who made a request and what their role lets them do. */
export interface Caller {
  /** The user's name; `token` for API_TOKEN, `local` when no credentials are configured. */
  user: string;
  role: Role;
}

/** Without credentials configured (loopback only), whoever reaches the port is the admin. */
const LOCAL: Caller = { user: 'local', role: 'admin' };

export const callerOf = (res: Response): Caller => (res.locals.caller as Caller | undefined) ?? LOCAL;

/** Who made a request: the user's name, `token` for API_TOKEN, `local` without credentials. */
export const userOf = (res: Response): string => callerOf(res).user;

/** localhost, 127.0.0.0/8 or ::1: reachable only from this machine. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (net.isIPv4(host)) return host.startsWith('127.');
  return net.isIPv6(host) && new net.SocketAddress({ address: host, family: 'ipv6' }).address === '::1';
}

const hasCredentials = (auth: WebConfig['auth']) =>
  Boolean((auth.username && auth.password) || auth.token || auth.usersFile);

/**
 * Off loopback, a server without credentials would let anyone who reaches the port in: refuse to
 * start, naming the variables that fix it. `what` and `fix` say which server and the other way out.
 */
export function assertSafeToServe(
  web: Pick<WebConfig, 'host' | 'auth'>,
  what = 'the web UI',
  risk = 'pause schedules and run jobs with params of their choosing',
): void {
  if (isLoopback(web.host) || hasCredentials(web.auth)) return;
  throw new Error(
    `refusing to serve ${what} on WEB_HOST=${web.host} without credentials: anyone who reaches it could ${risk}. ` +
      'Set WEB_USERS_FILE (users with roles: `tickflow users add`), WEB_USERNAME and WEB_PASSWORD (HTTP basic) ' +
      'and/or API_TOKEN (Bearer), or serve on WEB_HOST=127.0.0.1',
  );
}

/** Compares digests, so neither the length nor the content of a secret shows in the time taken. */
const same = (given: string, expected: string) =>
  timingSafeEqual(
    createHash('sha256').update(given).digest(),
    createHash('sha256').update(expected).digest(),
  );

/** A verified password is remembered this long, so a browser's every request does not cost a scrypt. */
const VERIFIED_TTL_MS = 5 * 60_000;
const VERIFIED_MAX = 1_000;
/** How often the users file is looked at for changes (stat), at most. */
const RELOAD_EVERY_MS = 1_000;

interface LoadedUsers {
  file: UsersFile;
  byToken: Map<string, string>;
  version: string;
}

/**
 * Checks a request's Authorization header against the users file (WEB_USERS_FILE, re-read when it
 * changes) and the single admin of WEB_USERNAME/WEB_PASSWORD and API_TOKEN.
 */
export class Authenticator {
  readonly configured: boolean;
  private loaded: LoadedUsers | undefined;
  private checkedAt = 0;
  private readonly verified = new Map<string, number>();
  /** Per process: a remembered password cannot be recognised from the map's keys. */
  private readonly pepper = randomBytes(16);

  constructor(
    private readonly auth: WebConfig['auth'],
    private readonly log?: Logger,
  ) {
    this.configured = hasCredentials(auth);
    // A broken users file at start is a configuration error, like a bad variable.
    if (auth.usersFile) this.loaded = this.load(auth.usersFile);
    const nobody = this.loaded && Object.keys(this.loaded.file.users).length === 0;
    if (nobody && !auth.token && !auth.username)
      log?.warn(
        { file: auth.usersFile },
        'WEB_USERS_FILE has no users yet: nobody can sign in until one is added (`tickflow users add <name> --role admin`)',
      );
  }

  /** Who the header proves, or undefined. */
  async authenticate(header: string | undefined): Promise<Caller | undefined> {
    if (!this.configured) return LOCAL;
    const space = (header ?? '').indexOf(' ');
    const scheme = (header ?? '').slice(0, Math.max(0, space)).toLowerCase();
    const value = (header ?? '').slice(space + 1).trim();
    if (scheme === 'bearer' && value) return this.byToken(value);
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString();
      const colon = decoded.indexOf(':');
      if (colon <= 0) return undefined;
      return this.byPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
    }
    return undefined;
  }

  /** What a 401 says is accepted. */
  accepted(): string {
    const { username, token, usersFile } = this.auth;
    return [
      username || usersFile
        ? 'HTTP basic (a user of WEB_USERS_FILE, or WEB_USERNAME/WEB_PASSWORD)'
        : undefined,
      token || usersFile ? 'Authorization: Bearer <token> (`tickflow users token`, or API_TOKEN)' : undefined,
    ]
      .filter(Boolean)
      .join(' or ');
  }

  get basic(): boolean {
    return Boolean(this.auth.username || this.auth.usersFile);
  }

  private byToken(token: string): Caller | undefined {
    if (this.auth.token && same(token, this.auth.token)) return { user: 'token', role: 'admin' };
    const users = this.users();
    const name = users?.byToken.get(hashToken(token));
    const user = name ? users?.file.users[name] : undefined;
    return name && user ? { user: name, role: user.role } : undefined;
  }

  private async byPassword(name: string, password: string): Promise<Caller | undefined> {
    const { username, password: adminPassword } = this.auth;
    if (username && adminPassword) {
      // Both compared every time: which of the two was wrong must not show either.
      const userOk = same(name, username);
      const passwordOk = same(password, adminPassword);
      if (userOk && passwordOk) return { user: name, role: 'admin' };
    }
    const users = this.users();
    if (!users) return undefined;
    const user = Object.hasOwn(users.file.users, name) ? users.file.users[name] : undefined;
    const stored = user?.password ?? NO_PASSWORD;
    const key = createHash('sha256')
      .update(this.pepper)
      .update(`${name}\0${password}\0${stored}`)
      .digest('base64');
    const now = Date.now();
    if ((this.verified.get(key) ?? 0) > now && user) return { user: name, role: user.role };
    // Unknown users are checked against a hash too: the time taken does not say who exists.
    const ok = (await verifyPassword(password, stored)) && user?.password !== undefined;
    if (!ok || !user) return undefined;
    if (this.verified.size >= VERIFIED_MAX) this.verified.clear();
    this.verified.set(key, now + VERIFIED_TTL_MS);
    return { user: name, role: user.role };
  }

  /** The users file as it is now: re-read when its size or time changed; a broken edit keeps the last good one. */
  private users(): LoadedUsers | undefined {
    const file = this.auth.usersFile;
    if (!file) return undefined;
    const now = Date.now();
    if (now - this.checkedAt < RELOAD_EVERY_MS) return this.loaded;
    this.checkedAt = now;
    if (versionOf(file) === this.loaded?.version) return this.loaded;
    try {
      this.loaded = this.load(file);
      this.log?.info({ file, users: Object.keys(this.loaded.file.users).length }, 'users file loaded');
    } catch (error) {
      this.log?.error({ file, err: error }, 'users file not reloaded: the previous version stays in use');
    }
    return this.loaded;
  }

  private load(file: string): LoadedUsers {
    const version = versionOf(file);
    const users = readUsersFile(file);
    const byToken = new Map<string, string>();
    for (const [name, user] of Object.entries(users.users)) if (user.token) byToken.set(user.token, name);
    return { file: users, byToken, version };
  }
}

function versionOf(file: string): string {
  try {
    const stat = fs.statSync(file);
    return `${stat.mtimeMs}|${stat.size}|${stat.ino}`;
  } catch {
    return 'missing';
  }
}

/**
 * Credentials, when configured: HTTP basic (a browser gets the prompt) or a Bearer token. A client
 * address with too many failed attempts in a row gets 429 and Retry-After, whatever it sends.
 */
export function requireCredentials(
  authenticator: Authenticator,
  throttle = new LoginThrottle(),
): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (!authenticator.configured) {
      res.locals.caller = LOCAL;
      next();
      return;
    }
    const address = req.socket.remoteAddress ?? 'unknown';
    const wait = throttle.retryAfter(address);
    if (wait !== undefined) {
      res
        .status(429)
        .set('Retry-After', String(wait))
        .json({ error: `too many failed logins from this address: try again in ${wait} s` });
      return;
    }
    let caller: Caller | undefined;
    try {
      caller = await authenticator.authenticate(req.headers.authorization);
    } catch (error) {
      next(error);
      return;
    }
    if (caller) {
      res.locals.caller = caller;
      next();
      return;
    }
    // A request without credentials is a browser about to ask for them, not a guess.
    if (req.headers.authorization) throttle.failed(address);
    const challenge = authenticator.basic
      ? 'Basic realm="tickflow", charset="UTF-8"'
      : 'Bearer realm="tickflow"';
    res
      .status(401)
      .set('WWW-Authenticate', challenge)
      .json({ error: `credentials required: ${authenticator.accepted()}` });
  };
}

/** What each role may do, for the 403 that says so. */
const ROLE_CAN: Record<Role, string> = {
  viewer: 'read',
  operator: 'read, pause and resume, trigger, backfill, cancel, re-run, mark and note runs',
  admin: 'everything',
};

/** A handler that checks the caller's role; `neededRole` lets a test see that a route has one. */
export type RoleCheck = RequestHandler & { neededRole: Role };

/** 403 unless the caller's role allows `needed`; `what` names the action in the answer. */
export function requireRole(needed: Role, what: string): RoleCheck {
  const check: RequestHandler = (_req: Request, res: Response, next: NextFunction) => {
    const caller = callerOf(res);
    if (allows(caller.role, needed)) {
      next();
      return;
    }
    res.status(403).json({ error: roleRefusal(caller, needed, what) });
  };
  return Object.assign(check, { neededRole: needed });
}

export const roleRefusal = (caller: Caller, needed: Role, what: string): string =>
  `${what} needs the ${needed} role; ${caller.user} is ${caller.role === 'viewer' ? 'a' : 'an'} ${caller.role} (may ${ROLE_CAN[caller.role]}): ` +
  'ask an admin (`tickflow users add <name> --role <role>`)';
