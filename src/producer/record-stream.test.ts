import { once } from 'node:events';
import { setTimeout } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { bodyOf, type RecordPiece } from './record-piece';
import { OFF_THREAD_MIN, recordStream } from './record-stream';
import { RecordMaker, type RecordOptions } from './records';

/** The threads the streams start, to see them end. */
const { started } = vi.hoisted(() => ({ started: [] as Worker[] }));
vi.mock('../runtime/threads', async (importOriginal) => {
  const threads = await importOriginal<typeof import('../runtime/threads')>();
  return {
    ...threads,
    startThread: (...args: Parameters<typeof threads.startThread>) => {
      const thread = threads.startThread(...args);
      started.push(thread);
      return thread;
    },
  };
});

const options = (count: number): RecordOptions => ({
  count,
  fraudRate: 0.05,
  seed: 7,
  window: { from: 1_700_000_000_000, to: 1_700_000_100_000 },
  ratePerSecond: 200,
  malformedRate: 0.01,
});

/** Every record of the pieces, as [key, body] pairs. */
async function collect(stream: AsyncIterable<RecordPiece>): Promise<Array<[string, string]>> {
  const all: Array<[string, string]> = [];
  for await (const piece of stream) all.push(...records(piece));
  return all;
}

const records = (piece: RecordPiece) =>
  piece.keys.map((key, i): [string, string] => [key, bodyOf(piece, i).toString()]);

describe('recordStream', () => {
  it('makes a large run on a thread: the same records and tally as made here', async () => {
    const count = OFF_THREAD_MIN + 1_234;
    const stream = recordStream(options(count));
    const threaded = await collect(stream);
    const maker = new RecordMaker(options(count));
    const here = records(maker.next(count));
    expect(threaded).toHaveLength(count);
    expect(threaded).toEqual(here);
    expect(stream.tally).toEqual(maker.tally);
    expect(stream.tally?.malformed).toBeGreaterThan(0);
    expect(stream.tally?.fraud).toBeGreaterThan(0);
  }, 30_000);

  it('makes a small run here, with its tally', async () => {
    const stream = recordStream(options(2_500));
    const made = await collect(stream);
    expect(made).toHaveLength(2_500);
    // Each body that parses is keyed by its account (a deliberately broken one may lack the field).
    const accounts = made.flatMap(([key, body]) => {
      try {
        return [{ key, accountId: JSON.parse(body).accountId ?? key }];
      } catch {
        return [];
      }
    });
    expect(accounts.length).toBeGreaterThan(2_450);
    for (const { key, accountId } of accounts) expect(accountId).toBe(key);
    expect(stream.tally?.bytes).toBe(made.reduce((sum, [, body]) => sum + Buffer.byteLength(body), 0));
  });

  it('fails the run, not the process, when its thread dies partway through with replies waiting', async () => {
    // Dates end at -8.64e15 ms: a fraud burst, stamped minutes before its last transaction, falls
    // off that end early in this window, so the thread throws after a few pieces.
    const start = -8.64e15;
    const stream = recordStream({
      ...options(200_000),
      fraudRate: 0.001,
      window: { from: start, to: start + 1_000_000 },
    });
    let pieces = 0;
    await expect(
      (async () => {
        for await (const _ of stream) {
          pieces++;
          // A sender waits on the broker for each request: the thread meanwhile dies, replies waiting.
          await setTimeout(20);
        }
      })(),
    ).rejects.toThrow(/Invalid time value/);
    expect(pieces).toBeGreaterThan(0);
    expect(stream.tally).toBeUndefined();
  }, 30_000);

  it('ends its thread when the caller stops early (a failed send, an abort)', async () => {
    started.length = 0;
    for await (const piece of recordStream(options(OFF_THREAD_MIN))) {
      expect(piece.keys.length).toBeGreaterThan(0);
      break;
    }
    const [thread] = started;
    expect(thread).toBeDefined();
    // threadId is -1 once the thread has exited.
    if (thread && thread.threadId !== -1) await once(thread, 'exit');
    expect(thread?.threadId).toBe(-1);
  }, 30_000);
});
