import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DueFetcher, type DueQueue } from './due-fetcher';

/** What a queue holds, as the scan script would find it. */
interface Held {
  ready?: boolean;
  due?: number;
  active?: number;
}

/** Just what the fetcher uses of Redis: its scan script (answered from `queues`) and a subscriber. */
class FakeRedis {
  readonly queues = new Map<string, Held>();
  /** The number of queues each scan call asked about. */
  readonly calls: number[] = [];
  readonly subscriber = Object.assign(new EventEmitter(), {
    subscribe: async () => 1,
    disconnect: () => {},
  });

  defineCommand(): void {}

  duplicate() {
    return this.subscriber;
  }

  async tickflowScanQueues(now: number, aheadMs: number, ...prefixes: string[]): Promise<number[]> {
    this.calls.push(prefixes.length);
    return prefixes.flatMap((prefix, i) => {
      const held = this.queues.get(prefix) ?? {};
      const due = held.due !== undefined && held.due <= now + aheadMs ? held.due : -1;
      return held.ready || due >= 0 || held.active ? [i, held.ready ? 1 : 0, due, held.active ?? 0] : [];
    });
  }
}

class Queue implements DueQueue {
  fetches = 0;
  stalledChecks = 0;
  constructor(readonly keyPrefix: string) {}
  fetch(): void {
    this.fetches++;
  }
  prepare(): void {}
  checkStalled(): void {
    this.stalledChecks++;
  }
}

/** Lets the pending scans and their replies run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('DueFetcher', () => {
  let redis: FakeRedis;
  let fetcher: DueFetcher;
  beforeEach(() => {
    vi.useFakeTimers();
    redis = new FakeRedis();
    fetcher = new DueFetcher(redis as unknown as Redis, 'p', pino({ level: 'silent' }), 5_000);
    fetcher.start();
  });
  afterEach(() => {
    fetcher.close();
    vi.useRealTimers();
  });

  it('fetches a delayed run at its due time, not before', async () => {
    const queue = new Queue('p:tick:');
    redis.queues.set('p:tick:', { due: Date.now() + 500 });
    fetcher.watch('tick', queue);
    await settle();
    await vi.advanceTimersByTimeAsync(499);
    expect(queue.fetches).toBe(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(queue.fetches).toBe(1);
  });

  it('fetches a waiting run at once, and a queue announced on the channel without waiting for the scan', async () => {
    const queue = new Queue('p:tick:');
    fetcher.watch('tick', queue);
    await settle();
    expect(queue.fetches).toBe(0);
    redis.queues.set('p:tick:', { ready: true });
    redis.subscriber.emit('message', 'p:_tickflow:queued', 'tick\nunknown');
    await settle();
    expect(queue.fetches).toBe(1);
  });

  it('scans every queue once a second in calls of 500, and looks for stalled runs only where runs are active', async () => {
    const queues = Array.from({ length: 1_200 }, (_, i) => new Queue(`p:s${i}:`));
    queues.forEach((queue, i) => {
      fetcher.watch(`s${i}`, queue);
    });
    redis.queues.set('p:s7:', { active: 1 });
    await settle();
    redis.calls.length = 0;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(redis.calls).toEqual([500, 500, 200]);
    expect(queues.filter((queue) => queue.stalledChecks > 0)).toEqual([queues[7]]);
    // At most once per stalledInterval (5 s), however many scans see it active.
    await vi.advanceTimersByTimeAsync(3_000);
    expect(queues[7]?.stalledChecks).toBe(1);
  });

  it('leaves no timer behind once closed', async () => {
    redis.queues.set('p:tick:', { due: Date.now() + 1_500 });
    fetcher.watch('tick', new Queue('p:tick:'));
    await settle();
    fetcher.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
