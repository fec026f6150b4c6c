import type { Config } from '../config/config';
import { createPool } from '../db/pool';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics/metrics';
import type { SchedulerProcess } from '../scheduler/process';
import { startWebServer } from './server';

/** Serves the web UI of a running scheduler; Bull Board follows schedules added or removed by a reload. */
export async function serveSchedulerUi(
  config: Config,
  log: Logger,
  running: SchedulerProcess,
  metrics: Metrics,
): Promise<{ close(): Promise<void> }> {
  const db = createPool(config, 2);
  const web = await startWebServer(
    config,
    log,
    {
      queues: () => running.scheduler.queues(),
      schedules: async () => (await running.scheduler.state()).schedules,
      loadError: () => running.source.lastError?.error.message,
    },
    db,
    metrics,
  );
  const follow = () => web.syncQueues();
  running.scheduler.on('queues', follow);
  return {
    async close() {
      running.scheduler.off('queues', follow);
      await web.close();
      await db.end();
    },
  };
}
