import type { Redis } from 'ioredis';
import { type Config, publicWebUrl } from '../config/config';
import type { Logger } from '../log/logger';
import { FailureNotifier } from '../notify/failure-notifier';
import type { JobRegistry } from '../runtime/job-registry';
import { Resources } from '../runtime/resources';
import type { SchedulesFile } from '../schedules/schedule';
import type { ScheduleSource } from '../schedules/source';
import { WorkerPool, type WorkerPoolOptions } from './worker-pool';

export type WorkerTuning = Partial<
  Pick<WorkerPoolOptions, 'lockDuration' | 'stalledInterval' | 'onFinished' | 'onSlotsSkipped'>
>;

export interface Workers {
  /** Emits `run:started` and `run:finished` for each attempt (run-events.ts). */
  pool: WorkerPool;
  /** Stops taking runs, waits for the active ones (bounded by their timeout), closes connections. */
  stop(): Promise<void>;
}

/** Workers for every schedule of `source`, following its edits; one Resources for the process. */
export async function startWorkers(
  source: ScheduleSource,
  jobs: JobRegistry,
  connection: Redis,
  config: Config,
  log: Logger,
  tuning: WorkerTuning = {},
): Promise<Workers> {
  const resources = new Resources(config);
  const notifier = new FailureNotifier({
    log,
    linkBase: publicWebUrl(config.web),
  });
  const pool = new WorkerPool({
    connection,
    prefix: config.queuePrefix,
    resources,
    jobs,
    log,
    notifier,
    ...tuning,
  });
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
      await notifier.drain();
      await resources.close();
    },
  };
}
