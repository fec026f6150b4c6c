import type { Kafka } from 'kafkajs';
import type { Config } from '../config/config';
import { migrate } from '../db/migrate';
import { createKafka } from '../kafka/client';
import { ensureTopics, type TopicSpec } from '../kafka/topics';
import type { Logger } from '../log/logger';
import type { SchedulesFile } from '../schedules/schedule';
import { ScheduleSource } from '../schedules/source';
import { startWorkers, type Workers, type WorkerTuning } from '../worker/process';
import { bullConnection } from './queues';
import { warnIfCoarseRedisTimer } from './redis-hz';
import { Scheduler } from './scheduler';

export interface SchedulerProcessOptions {
  /** Run workers in this process too (the default for `npm run scheduler`). */
  workers: boolean;
  workerTuning?: WorkerTuning;
  /** How often the scheduler re-checks Redis (restoring flushed schedulers). */
  checkEveryMs?: number;
}

export interface SchedulerProcess {
  scheduler: Scheduler;
  source: ScheduleSource;
  workers?: Workers;
  stop(): Promise<void>;
}

/**
 * Everything `tickflow scheduler` runs once services are up: migrations, the schedules file and
 * its topics, the reconciling Scheduler, the file watch and, unless turned off, the workers.
 * A broken schedules file at start throws: there is no previous version to keep running.
 */
export async function startSchedulerProcess(
  config: Config,
  log: Logger,
  options: SchedulerProcessOptions,
): Promise<SchedulerProcess> {
  await migrate(config, log);
  const source = new ScheduleSource(config.schedulesFile, log);
  const file = await source.load();
  const topics = new FileTopics(createKafka(config), log);
  await topics.ensure(file.topics);
  const followTopics = (changed: SchedulesFile) => {
    topics
      .ensure(changed.topics)
      .catch((error) => log.error({ err: error }, 'creating the topics of the schedules file failed'));
  };
  source.on('change', followTopics);

  const connection = bullConnection(config.redisUrl);
  await warnIfCoarseRedisTimer(connection, log);
  const scheduler = new Scheduler({
    source,
    connection,
    prefix: config.queuePrefix,
    log,
    ...(options.checkEveryMs ? { checkEveryMs: options.checkEveryMs } : {}),
  });
  await scheduler.start();
  const workers = options.workers ? await startWorkers(source, config, log, options.workerTuning) : undefined;
  source.watch();
  log.info(
    { file: source.file, schedules: file.schedules.length, workers: options.workers },
    'scheduler started',
  );
  return {
    scheduler,
    source,
    ...(workers ? { workers } : {}),
    async stop() {
      source.close();
      source.off('change', followTopics);
      await scheduler.stop();
      await workers?.stop();
      connection.disconnect();
    },
  };
}

/** The `topics:` block, ensured at start and again only when an edit changes it. */
class FileTopics {
  private ensured = '[]';

  constructor(
    private readonly kafka: Kafka,
    private readonly log: Logger,
  ) {}

  async ensure(topics: TopicSpec[]): Promise<void> {
    const wanted = JSON.stringify(topics);
    if (wanted === this.ensured) return;
    const created = await ensureTopics(this.kafka, topics);
    this.ensured = wanted;
    if (created.length) this.log.info({ topics: created }, `created Kafka topics: ${created.join(', ')}`);
  }
}
