import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** What a reconcile pass needs to know of one schedule's queue to tell that it is in line. */
export interface QueueState {
  /** The due time of the run its job scheduler (named after the queue) holds; none without a job scheduler. */
  next: number | undefined;
  paused: boolean;
  /** BullMQ's global concurrency; none when unlimited. */
  concurrency: number | undefined;
  /** Runs active, waiting (or held by a pause), delayed or prioritized. */
  pending: number;
}

/** Queues per script call: each call holds Redis briefly, so other clients get a turn between them. */
const QUEUES_PER_CALL = 500;

/**
 * Per queue (ARGV: its key prefix, then the job scheduler's id), four integers: the job scheduler's
 * next due time or -1, paused 1/0, global concurrency or -1, the pending runs. BullMQ's own keys
 * (queue-keys.ts): the repeat set scores each job scheduler by its next due time; meta holds the
 * pause flag and the global concurrency (what Queue.isPaused and getGlobalConcurrency read).
 */
const READ_SCRIPT = `
local out = {}
for i = 1, #ARGV, 2 do
  local q = ARGV[i]
  local next = redis.call('ZSCORE', q .. 'repeat', ARGV[i + 1])
  local meta = redis.call('HMGET', q .. 'meta', 'paused', 'concurrency')
  out[#out + 1] = next and tonumber(next) or -1
  out[#out + 1] = meta[1] and 1 or 0
  out[#out + 1] = meta[2] and tonumber(meta[2]) or -1
  out[#out + 1] = redis.call('LLEN', q .. 'wait') + redis.call('LLEN', q .. 'paused')
    + redis.call('LLEN', q .. 'active') + redis.call('ZCARD', q .. 'delayed')
    + redis.call('ZCARD', q .. 'prioritized')
end
return out`;

const READ_COMMAND = 'tickflowQueueStates';

type ReadingRedis = Redis & { [READ_COMMAND](...args: string[]): Promise<number[]> };

/**
 * The state of every one of these queues (each one's job scheduler named after it), in one script
 * call per QUEUES_PER_CALL queues, instead of four round trips per queue.
 */
export async function queueStates(redis: Redis, queues: Queue[]): Promise<Map<string, QueueState>> {
  if (!(READ_COMMAND in redis)) redis.defineCommand(READ_COMMAND, { numberOfKeys: 0, lua: READ_SCRIPT });
  const states = new Map<string, QueueState>();
  for (let from = 0; from < queues.length; from += QUEUES_PER_CALL) {
    const chunk = queues.slice(from, from + QUEUES_PER_CALL);
    const found = await (redis as ReadingRedis)[READ_COMMAND](
      ...chunk.flatMap((queue) => [queue.toKey(''), queue.name]),
    );
    chunk.forEach((queue, i) => {
      const [next = -1, paused = 0, concurrency = -1, pending = 0] = found
        .slice(i * 4, i * 4 + 4)
        .map(Number);
      states.set(queue.name, {
        next: next < 0 ? undefined : next,
        paused: paused === 1,
        concurrency: concurrency < 0 ? undefined : concurrency,
        pending,
      });
    });
  }
  return states;
}
