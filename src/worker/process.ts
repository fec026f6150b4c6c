import type { Config } from '../config/config';
import { migrate } from '../db/migrate';
import type { Logger } from '../log/logger';
import { Resources } from '../runtime/resources';
import { bullConnection } from '../scheduler/queues';
import type { SchedulesFile } from '../schedules/schedule';
import { ScheduleSource } from '../schedules/source';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool';

export type WorkerTuning = Partial<
  Pick<WorkerPoolOptions, 'lockDuration' | 'stalledInterval' | 'onFinished'>
>;

export interface Workers {
  pool: WorkerPool;
  /** Stops taking runs, waits for the active ones (bounded by their timeout), closes connections. */
  stop(): Promise<void>;
}

/** Workers for every schedule of `source`, following its edits; one Resources for the process. */
export async function startWorkers(
  source: ScheduleSource,
  config: Config,
  log: Logger,
  tuning: WorkerTuning = {},
): Promise<Workers> {
  const resources = new Resources(config);
  const connection = bullConnection(config.redisUrl);
  const pool = new WorkerPool({ connection, prefix: config.queuePrefix, resources, log, ...tuning });
  await pool.sync(source.current.schedules);
  const follow = (file: SchedulesFile) => {
    pool.sync(file.schedules).catch((error) => log.error({ err: error }, 'updating the workers failed'));
  };
  source.on('change', follow);
  return {
    pool,
    async stop() {
      source.off('change', follow);
      await pool.close();
      await resources.close();
      connection.disconnect();
    },
  };
}

/** `tickflow worker`: workers alone, for scaling out; the queues come from the schedules file. */
export async function startWorkerProcess(config: Config, log: Logger, tuning: WorkerTuning = {}) {
  await migrate(config, log);
  const source = new ScheduleSource(config.schedulesFile, log);
  await source.load();
  source.watch();
  const workers = await startWorkers(source, config, log, tuning);
  log.info({ schedules: source.current.schedules.length }, 'workers started');
  return {
    ...workers,
    async stop() {
      source.close();
      await workers.stop();
    },
  };
}
