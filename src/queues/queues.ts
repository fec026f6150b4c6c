import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

/** BullMQ needs `maxRetriesPerRequest: null` so that a Redis restart pauses work instead of failing it. */
export function bullConnection(redisUrl: string): Redis {
  return new Redis(redisUrl, { maxRetriesPerRequest: null });
}

/** One BullMQ queue per schedule, named after it, under the configured key prefix. */
export class QueueSet {
  private readonly queues = new Map<string, Queue>();

  constructor(
    readonly connection: Redis,
    readonly prefix: string,
  ) {}

  get(name: string): Queue {
    let queue = this.queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.connection, prefix: this.prefix });
      this.queues.set(name, queue);
    }
    return queue;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  async drop(name: string): Promise<void> {
    await this.queues.get(name)?.close();
    this.queues.delete(name);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((queue) => queue.close()));
    this.queues.clear();
  }
}
