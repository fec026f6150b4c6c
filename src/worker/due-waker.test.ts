import { EventEmitter } from 'node:events';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DueTimeWaker } from './due-waker';

/** Just what the waker uses of Redis: due times read in a pipeline, markers added; reads can be held. */
class FakeRedis {
  readonly dues = new Map<string, number>();
  readonly marks: Array<[key: string, score: number]> = [];
  reads = 0;
  private gate: Promise<void> = Promise.resolve();
  private openGate = () => {};

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate();
  }

  pipeline() {
    const ids: string[] = [];
    return {
      zscore: (_key: string, id: string) => ids.push(id),
      exec: async () => {
        this.reads++;
        await this.gate;
        return ids.map((id) => [null, this.dues.has(id) ? String(this.dues.get(id)) : null]);
      },
    };
  }

  async zadd(key: string, score: number): Promise<number> {
    this.marks.push([key, score]);
    return 1;
  }
}

const worker = (name: string) =>
  Object.assign(new EventEmitter(), {
    keys: { repeat: `${name}:repeat`, marker: `${name}:marker` },
  }) as unknown as Worker;

/** Lets the pending reads and their replies run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

describe('DueTimeWaker', () => {
  let redis: FakeRedis;
  let waker: DueTimeWaker;
  beforeEach(() => {
    vi.useFakeTimers();
    redis = new FakeRedis();
    waker = new DueTimeWaker(redis as unknown as Redis, pino({ level: 'silent' }));
  });
  afterEach(() => {
    waker.close();
    vi.useRealTimers();
  });

  it("adds the worker's marker at its schedule's due time, not before", async () => {
    const due = Date.now() + 500;
    redis.dues.set('tick', due);
    waker.watch(worker('tick'), 'tick');
    await settle();
    await vi.advanceTimersByTimeAsync(499);
    expect(redis.marks).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(redis.marks).toEqual([['tick:marker', due]]);
  });

  it('reads the due time again when a run starts (the scheduler has moved its next)', async () => {
    redis.dues.set('tick', Date.now() + 10_000);
    const tick = worker('tick');
    waker.watch(tick, 'tick');
    await settle();
    const next = Date.now() + 300;
    redis.dues.set('tick', next);
    (tick as unknown as EventEmitter).emit('active');
    await vi.advanceTimersByTimeAsync(300);
    expect(redis.marks).toEqual([['tick:marker', next]]);
  });

  it('arms nothing for a schedule unwatched while its due time was being read', async () => {
    redis.dues.set('tick', Date.now() + 100);
    redis.hold();
    waker.watch(worker('tick'), 'tick');
    await settle();
    waker.unwatch('tick');
    redis.release();
    await vi.advanceTimersByTimeAsync(200);
    expect(redis.marks).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads every schedule in one round trip a second, and leaves no timer once closed', async () => {
    waker.start();
    for (const name of ['a', 'b', 'c']) {
      redis.dues.set(name, Date.now() + 60_000);
      waker.watch(worker(name), name);
    }
    await settle();
    const reads = redis.reads;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(redis.reads).toBe(reads + 1);
    waker.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
