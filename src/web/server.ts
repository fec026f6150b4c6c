import type { Server } from 'node:http';
import express from 'express';
import { httpUrl, type WebConfig } from '../config/config';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import { assertSafeToServe, requireCredentials, sameOriginWrites } from './auth';

/** Each dependency's answer to a real request: Redis, PostgreSQL, Kafka. */
export type Readiness = () => Promise<Record<string, boolean>>;

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
 * One HTTP server per process: /health (always open), /ready, /metrics (open with METRICS_PUBLIC)
 * and, behind the credentials and same-origin writes, whatever the process mounts. Refuses to
 * listen off loopback without credentials.
 */
export async function startWebServer(web: WebConfig, log: Logger, parts: WebServerParts): Promise<WebServer> {
  assertSafeToServe(web, parts.exposure.what, parts.exposure.risk);
  const app = express();
  app.disable('x-powered-by');
  const credentials = requireCredentials(web.auth);
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/ready', async (_req, res) => {
    const checks = await parts.ready();
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ ready, checks });
  });
  app.get('/metrics', ...(web.metricsPublic ? [] : [credentials]), async (_req, res) => {
    res.type(parts.metrics.registry.contentType).send(await parts.metrics.registry.metrics());
  });
  app.use(credentials, sameOriginWrites(web.publicUrl));
  parts.mount?.(app);

  const server = await listen(app, web.host, web.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : web.port;
  const url = httpUrl(web.host, port);
  log.info(
    { url, auth: Boolean(web.auth.token || web.auth.username), readOnly: web.readOnly },
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

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
