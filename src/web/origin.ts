import net from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { isLoopback } from './auth';

/**
 * Loopback is not trust: a page of another site can make the operator's browser send requests to
 * 127.0.0.1 (DNS rebinding: its name resolves to 127.0.0.1, so the browser treats the answers as
 * that site's own). Such a request names the other site in `Host`; the checks below refuse it.
 */

/** `host:port` of a Host header (brackets kept off an IPv6 address), or undefined when unreadable. */
function splitHost(header: string): { host: string; port: number | undefined } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(header.trim());
  if (!match) return undefined;
  return { host: (match[1] ?? match[2] ?? '').toLowerCase(), port: match[3] ? Number(match[3]) : undefined };
}

export interface HostRule {
  /** The port this server listens on (known once it listens: port 0 picks one). */
  port(): number;
  /** WEB_PUBLIC_URL: the address people use through a proxy. */
  publicUrl?: string | undefined;
  /** WEB_HOST: off loopback, a Host that is an IP address (which no DNS name can stand for) is accepted too. */
  listenHost: string;
}

/** Whether a Host header names this server: loopback with its port, WEB_PUBLIC_URL's host, or (off loopback) an IP address with its port. */
export function hostAllowed(header: string | undefined, rule: HostRule): boolean {
  if (!header) return false;
  const publicUrl = rule.publicUrl ? new URL(rule.publicUrl) : undefined;
  if (publicUrl && header.toLowerCase() === publicUrl.host.toLowerCase()) return true;
  const parsed = splitHost(header);
  if (!parsed) return false;
  if ((parsed.port ?? 80) !== rule.port()) return false;
  if (isLoopback(parsed.host)) return true;
  return !isLoopback(rule.listenHost) && net.isIP(parsed.host) !== 0;
}

/** 421 Misdirected Request for a Host that is not this server's: before anything else is looked at. */
export function checkHost(rule: HostRule) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (hostAllowed(req.headers.host, rule)) {
      next();
      return;
    }
    res.status(421).json({
      error:
        `this server does not answer for Host ${JSON.stringify(req.headers.host ?? '')}: use 127.0.0.1:${rule.port()} ` +
        'or localhost, or set WEB_PUBLIC_URL to the address people use (through a proxy)',
    });
  };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Browsers send basic-auth credentials with any request to this origin, including ones a hostile
 * page makes: a request that changes state must come from this origin (CSRF protection). An Origin
 * that is present must name this server (its Host, already checked, or WEB_PUBLIC_URL); `null`
 * (a sandboxed frame, a redirect, a file: page) does not. Without Origin, a browser's
 * `Sec-Fetch-Site: cross-site` is refused too; a client that sends neither is not a browser page.
 */
export function sameOriginWrites(publicUrl: string | undefined) {
  const publicHost = publicUrl ? new URL(publicUrl).host.toLowerCase() : undefined;
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const origin = req.headers.origin;
    const from = origin === undefined ? undefined : hostOf(origin);
    const host = req.headers.host?.toLowerCase();
    const crossOrigin =
      origin !== undefined
        ? from === undefined || (from !== host && from !== publicHost)
        : req.headers['sec-fetch-site'] === 'cross-site';
    if (crossOrigin)
      res.status(403).json({
        error: `cross-origin requests may not change state (Origin: ${JSON.stringify(origin ?? null)})`,
      });
    else next();
  };
}

function hostOf(origin: string): string | undefined {
  if (!URL.canParse(origin)) return undefined;
  const url = new URL(origin);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : undefined;
}
