import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';
import { queuedChannel } from '../queues/queues';

/** How often every queue is looked at without a prompt: runs queued elsewhere, due times moved. */
const SCAN_EVERY_MS = 1_000;
/** Due times up to this far ahead get a timer at the scan (a little more than a scan apart). */
const ARM_AHEAD_MS = 2_000;
/** Queues per scan script call: each call holds Redis briefly, so other clients get a turn between them. */
const QUEUES_PER_CALL = 500;

/** What the fetcher drives for one queue (the WorkerPool's runner of one schedule). */
export interface DueQueue {
  /** BullMQ's key prefix of the queue, `<prefix>:<queue>:` (Queue.toKey('')). */
  readonly keyPrefix: string;
  /** Takes what the queue has ready (as many runs as its concurrency allows). */
  fetch(): void;
  /** A run is due within the next two seconds: whatever fetching it needs is made ready now. */
  prepare(): void;
  /** The queue holds active runs: look for stalled ones (BullMQ's own check, at most every stalledInterval). */
  checkStalled(): void;
}

/**
 * What each queue holds, in one script call per QUEUES_PER_CALL queues: index, ready now (a run
 * waiting and the queue neither paused nor at its global concurrency), the next delayed run's due
 * time within the horizon (or -1; also when at its global concurrency: the run active now may end
 * before then, on any process), busy (runs active). Only the queues with something to say are
 * answered, so the reply follows the work, not the number of queues. The keys are BullMQ's own
 * (queue-keys.ts); a delayed job's score is its due time × 0x1000 plus a counter (addDelayedJob.lua).
 */
const SCAN_SCRIPT = `
local now = tonumber(ARGV[1])
local horizon = now + tonumber(ARGV[2])
local out = {}
for i = 3, #ARGV do
  local q = ARGV[i]
  local meta = redis.call('HMGET', q .. 'meta', 'paused', 'concurrency')
  local active = redis.call('LLEN', q .. 'active')
  local ready, due = 0, -1
  if not meta[1] then
    local maxed = meta[2] and active >= tonumber(meta[2])
    if not maxed and (redis.call('LLEN', q .. 'wait') > 0 or redis.call('ZCARD', q .. 'prioritized') > 0) then
      ready = 1
    end
    local first = redis.call('ZRANGE', q .. 'delayed', 0, 0, 'WITHSCORES')
    if first[2] then
      local at = math.floor(tonumber(first[2]) / 4096)
      if at <= horizon then due = at end
    end
  end
  if ready == 1 or due >= 0 or active > 0 then
    out[#out + 1] = i - 3
    out[#out + 1] = ready
    out[#out + 1] = due
    out[#out + 1] = active
  end
end
return out`;

const SCAN_COMMAND = 'tickflowScanQueues';

type ScanningRedis = Redis & {
  [SCAN_COMMAND](now: number, aheadMs: number, ...queues: string[]): Promise<number[]>;
};

interface Watched {
  queue: DueQueue;
  /** The due time a timer is armed for, and that timer. */
  armedFor?: number;
  timer?: NodeJS.Timeout;
  lastStalledCheck: number;
}

/**
 * Starts every schedule's runs on time, with a cost that follows the runs, not the number of
 * schedules: no blocking connection per queue (BullMQ's Worker keeps one each), no timer per queue
 * except for the runs due in the next two seconds. Once a second one scan reads every queue
 * (QUEUES_PER_CALL queues a call); a queue with a run waiting is fetched at once, a delayed run
 * due soon gets a timer at its due time, which fetches it then (BullMQ promotes a delayed job that
 * is due as it fetches). Between scans, `check` looks at a few queues at once: after a run ended
 * here (a retry's backoff), and when any process announces a queue (QueueSet.announce): runs it
 * queued (a trigger, a resume, catch-up) or a run it took (the job scheduler has just made the next
 * one, which every process then arms, so whichever is free at its due time takes it). Several processes doing the same is harmless: fetching is one
 * atomic BullMQ script, and who finds nothing has lost nothing.
 */
export class DueFetcher {
  private readonly watched = new Map<string, Watched>();
  private readonly redis: ScanningRedis;
  private scanTimer?: NodeJS.Timeout;
  private subscriber?: Redis;
  private readonly asked = new Set<string>();
  private checkScheduled = false;
  private closed = false;

  /** `redis`: a non-blocking connection (the pool's); the announcements' subscriber is one of its own. */
  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly log: Logger,
    private readonly stalledEveryMs: number,
  ) {
    if (!(SCAN_COMMAND in redis)) redis.defineCommand(SCAN_COMMAND, { numberOfKeys: 0, lua: SCAN_SCRIPT });
    this.redis = redis as ScanningRedis;
  }

  start(): void {
    const subscriber = this.redis.duplicate();
    subscriber.on('error', (error) => this.log.warn({ err: error }, 'queued-runs listener: Redis error'));
    subscriber.on('message', (_channel: string, message: string) => this.check(message.split('\n')));
    // ioredis subscribes again after a reconnect; what a gap loses, the next scan finds.
    subscriber
      .subscribe(queuedChannel(this.prefix))
      .catch((error: unknown) => this.log.warn({ err: error }, 'queued-runs listener: could not subscribe'));
    this.subscriber = subscriber;
    this.scanTimer = setInterval(
      () => void this.scan([...this.watched.keys()], { everyQueue: true }),
      SCAN_EVERY_MS,
    );
    this.scanTimer.unref();
  }

  watch(name: string, queue: DueQueue): void {
    this.unwatch(name);
    this.watched.set(name, { queue, lastStalledCheck: 0 });
    this.check([name]);
  }

  unwatch(name: string): void {
    const watched = this.watched.get(name);
    if (!watched) return;
    clearTimeout(watched.timer);
    this.watched.delete(name);
  }

  /** Looks at these queues now (batched with any other asked for in the same turn of the event loop). */
  check(names: Iterable<string>): void {
    for (const name of names) if (this.watched.has(name)) this.asked.add(name);
    if (this.checkScheduled || this.asked.size === 0) return;
    this.checkScheduled = true;
    setImmediate(() => {
      this.checkScheduled = false;
      const names = [...this.asked];
      this.asked.clear();
      void this.scan(names, { everyQueue: false });
    });
  }

  close(): void {
    this.closed = true;
    clearInterval(this.scanTimer);
    this.subscriber?.disconnect();
    for (const name of [...this.watched.keys()]) this.unwatch(name);
  }

  /**
   * `everyQueue`: the scan of the second, the only one that looks for stalled runs (a run seen active
   * just after it was taken is no sign of a stall, and would cost a check per run).
   */
  private async scan(names: string[], { everyQueue }: { everyQueue: boolean }): Promise<void> {
    for (let from = 0; from < names.length && !this.closed; from += QUEUES_PER_CALL) {
      const chunk = names.slice(from, from + QUEUES_PER_CALL).flatMap((name) => {
        const watched = this.watched.get(name);
        return watched ? [{ name, watched }] : [];
      });
      if (chunk.length === 0) continue;
      try {
        const found = await this.redis[SCAN_COMMAND](
          Date.now(),
          ARM_AHEAD_MS,
          ...chunk.map(({ watched }) => watched.queue.keyPrefix),
        );
        for (let i = 0; i + 3 < found.length; i += 4) {
          const hit = chunk[Number(found[i])];
          // Unwatched (or watched anew) while the scan was under way: not ours to drive.
          if (!hit || this.watched.get(hit.name) !== hit.watched) continue;
          this.act(hit.watched, {
            ready: found[i + 1] === 1,
            due: Number(found[i + 2]),
            busy: everyQueue && Number(found[i + 3]) > 0,
          });
        }
      } catch (error) {
        this.log.debug({ err: error }, 'could not scan the queues; trying again at the next scan');
      }
    }
  }

  private act(watched: Watched, found: { ready: boolean; due: number; busy: boolean }): void {
    const now = Date.now();
    if (found.ready || (found.due >= 0 && found.due <= now)) watched.queue.fetch();
    else if (found.due >= 0) this.armAt(watched, found.due);
    if (found.busy && now - watched.lastStalledCheck >= this.stalledEveryMs) {
      watched.lastStalledCheck = now;
      watched.queue.checkStalled();
    }
  }

  private armAt(watched: Watched, due: number): void {
    if (watched.armedFor === due) return;
    watched.queue.prepare();
    clearTimeout(watched.timer);
    watched.armedFor = due;
    watched.timer = setTimeout(
      () => {
        watched.armedFor = undefined;
        watched.queue.fetch();
      },
      // A millisecond past: BullMQ promotes a delayed job once Date.now() reaches it, and a timer
      // (on the monotonic clock) can fire a fraction of a millisecond before Date.now() gets there.
      Math.max(0, due - Date.now() + 1),
    );
    watched.timer.unref();
  }
}
