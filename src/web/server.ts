import type { Server } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import type pg from 'pg';
import type { Config } from '../config/config';
import { recentRuns } from '../db/run-history';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import type { ScheduleStatus } from '../scheduler/status';
import { localServices } from '../services/services';
import { renderGrid } from './grid';

/** What the web UI reads from the running scheduler. */
export interface WebSources {
  queues(): Queue[];
  schedules(): Promise<ScheduleStatus[]>;
  /** The last schedules.yaml load error, shown until a good edit replaces it. */
  loadError(): string | undefined;
}

export const BOARD_PATH = '/ui';
const RUNS_PER_ROW = 30;

export interface WebServer {
  url: string;
  /** Call after every reconcile so Bull Board shows exactly the current schedule queues. */
  syncQueues(): void;
  close(): Promise<void>;
}

export async function startWebServer(
  config: Config,
  log: Logger,
  sources: WebSources,
  db: pg.Pool,
  metrics: Metrics,
): Promise<WebServer> {
  const app = express();
  const board = mountBoard(app);
  const syncQueues = () => board.replaceQueues(sources.queues().map((queue) => new BullMQAdapter(queue)));
  syncQueues();

  app.get('/', (_req, res) => res.redirect('/schedules'));
  // Express 5 passes a rejected async handler to the error handler itself.
  app.get('/schedules', async (_req, res) => {
    const schedules = await sources.schedules();
    const runs = await recentRuns(
      db,
      schedules.map((s) => s.name),
      RUNS_PER_ROW,
    );
    res.type('html').send(renderGrid(schedules, runs, sources.loadError(), BOARD_PATH));
  });
  app.get('/health', (_req, res) => res.json({ status: 'ok' }));
  app.get('/ready', async (_req, res) => {
    const checks = Object.fromEntries(
      await Promise.all(localServices.map(async (s) => [s.name, await s.ready(config)] as const)),
    );
    const ready = Object.values(checks).every(Boolean);
    res.status(ready ? 200 : 503).json({ ready, checks });
  });
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  const server = await listen(app, config.web.host, config.web.port);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.web.port;
  const url = `http://${config.web.host}:${port}`;
  log.info({ url, board: `${url}${BOARD_PATH}`, grid: `${url}/schedules` }, `web UI at ${url}`);
  return {
    url,
    syncQueues,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function mountBoard(app: express.Express) {
  const serverAdapter = new ExpressAdapter().setBasePath(BOARD_PATH);
  const board = createBullBoard({
    queues: [],
    serverAdapter,
    options: {
      uiConfig: { boardTitle: 'tickflow', miscLinks: [{ text: 'Schedules grid', url: '/schedules' }] },
    },
  });
  app.use(BOARD_PATH, serverAdapter.getRouter());
  return board;
}

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => (error ? reject(error) : resolve(server)));
  });
}
