import http from 'node:http';
import express from 'express';
import { httpUrl, type WebConfig } from '../config/config';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import { Authenticator, assertSafeToServe, requireCredentials } from './auth';
import { securityHeaders } from './headers';
import { checkHost, sameOriginWrites } from './origin';
import { sharedAnswers } from './shared-answers';

/** Each dependency's answer to a real request: Redis, PostgreSQL, Kafka. */
export type Readiness = () => Promise<Record<string, boolean>>;

/** /ready is computed at most once per this long per process, however many ask. */
export const READY_TTL_MS = 1_000;

export interface WebServerParts {
  metrics: Metrics;
  ready: Readiness;
  /** What this process serves behind the credentials (the scheduler's UI and API; nothing for a worker). */
  mount?: (app: express.Express) => void;
  /** Who may reach it, for the refusal off loopback: what it is and what a stranger could do. */
  exposure: Exposure;
}

export interface Exposure {
  what: string;
  risk?: string;
}

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

/**
 * One HTTP server per process. Every answer carries the security headers; a request whose Host is
 * not this server's gets 421 before anything else, a write from another origin 403. Then /health
 * (always open), /ready (open, computed at most once a second), /metrics (open with METRICS_PUBLIC)
 * and, behind the credentials, whatever the process mounts. Refuses to listen off loopback
 * without credentials. Bounded: connections, and the time a request's headers and body may take.
 */
export async function startWebServer(web: WebConfig, log: Logger, parts: WebServerParts): Promise<WebServer> {
  assertSafeToServe(web, parts.exposure.what, parts.exposure.risk);
  const authenticator = new Authenticator(web.auth, log);
  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(
    {
      headersTimeout: web.limits.headersTimeoutMs,
      requestTimeout: web.limits.requestTimeoutMs,
      // How often the timeouts above are checked (Node's default, 30 s, would let them run far over).
      connectionsCheckingInterval: Math.min(1_000, web.limits.headersTimeoutMs),
    },
    app,
  );
  server.maxConnections = web.limits.maxConnections;
  server.keepAliveTimeout = 5_000;
  const port = () => {
    const address = server.address();
    return typeof address === 'object' && address ? address.port : web.port;
  };

  app.use(securityHeaders);
  app.use(checkHost({ port, publicUrl: web.publicUrl, listenHost: web.host }));
  app.use(sameOriginWrites(web.publicUrl));
  const credentials = requireCredentials(authenticator);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  const readiness = sharedAnswers<{ ready: boolean; checks: Record<string, boolean>; checkedAt: string }>(
    READY_TTL_MS,
  );
  app.get('/ready', async (_req, res) => {
    const answer = await readiness('ready', async () => {
      const checks = await parts.ready();
      return { ready: Object.values(checks).every(Boolean), checks, checkedAt: new Date().toISOString() };
    });
    res
      .set('Cache-Control', 'no-store')
      .status(answer.ready ? 200 : 503)
      .json(answer);
  });
  app.get('/metrics', ...(web.metricsPublic ? [] : [credentials]), async (_req, res) => {
    res.type(parts.metrics.registry.contentType).send(await parts.metrics.registry.metrics());
  });
  app.use(credentials);
  parts.mount?.(app);

  await listen(server, web.host, web.port);
  const url = httpUrl(web.host, port());
  log.info(
    { url, auth: authenticator.configured, users: Boolean(web.auth.usersFile), readOnly: web.readOnly },
    `${parts.exposure.what} at ${url}`,
  );
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Live-update polls keep connections open; they must not hold up a shutdown.
        server.closeIdleConnections();
      }),
  };
}

function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
