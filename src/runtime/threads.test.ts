import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { requester } from './threads';

/** A thread that answers each message with itself, or exits when told to. */
const echo = () =>
  new Worker(
    `const { parentPort } = require('node:worker_threads');
     parentPort.on('message', (m) => (m === 'exit' ? process.exit(3) : parentPort.postMessage(m)));`,
    { eval: true },
  );

describe('requester', () => {
  let thread: Worker | undefined;
  afterEach(async () => {
    await thread?.terminate();
  });

  it('answers each request with its own reply, in order', async () => {
    thread = echo();
    const ask = requester<number, number>(thread, 'echo thread');
    expect(await Promise.all([ask(1), ask(2), ask(3)])).toEqual([1, 2, 3]);
  });

  it('fails a message that cannot be sent, and the next request still gets its own reply', async () => {
    thread = echo();
    const ask = requester<unknown, unknown>(thread, 'echo thread');
    await expect(ask(() => 'a function cannot be cloned')).rejects.toThrow();
    expect(await ask('next')).toBe('next');
  });

  it('fails the requests waiting, and every one after, when the thread exits', async () => {
    thread = echo();
    const ask = requester<string, string>(thread, 'echo thread');
    const waiting = ask('exit');
    await expect(waiting).rejects.toThrow('the echo thread exited (code 3) before the run ended');
    await expect(ask('after')).rejects.toThrow('the echo thread exited (code 3)');
  });
});
