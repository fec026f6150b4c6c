import type { Config } from '../config/config';
import { ScheduleMemory } from '../scheduler/memory';
import { bullConnection, QueueSet } from '../scheduler/queues';

export interface ScheduleStore {
  queues: QueueSet;
  memory: ScheduleMemory;
}

/** For one-shot commands: the schedules' queues and memory in Redis, closed when `work` ends. */
export async function withScheduleStore<T>(
  config: Config,
  work: (store: ScheduleStore) => Promise<T>,
): Promise<T> {
  const connection = bullConnection(config.redisUrl);
  const queues = new QueueSet(connection, config.queuePrefix);
  try {
    return await work({ queues, memory: new ScheduleMemory(connection, config.queuePrefix) });
  } finally {
    await queues.close();
    connection.disconnect();
  }
}
