import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { deletePrefix } from '../../test/scheduler/redis-keys';
import { testEnv, waitFor } from '../../test/support';
import { bullConnection } from '../queues/queues';
import { CancelledError, cancelChannel, cancelKey, requestCancel } from '../queues/run-cancel';
import { RunCancels } from './run-cancels';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Two RunCancels on one prefix, as two worker processes would have, and a connection to ask with. */
function setUp() {
  const { id: prefix, config, log } = testEnv('cancels');
  const redis = bullConnection(config);
  const pools = [new RunCancels(redis, prefix, log), new RunCancels(redis.duplicate(), prefix, log)];
  closers.push(async () => {
    for (const pool of pools) await pool.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });
  for (const pool of pools) pool.start();
  return { prefix, redis, pools };
}

/** Work that runs until its signal aborts, and says with what. */
const untilAborted = (started: () => void) => (signal: AbortSignal) =>
  new Promise<unknown>((_, reject) => {
    started();
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

describe('RunCancels (real Redis)', () => {
  it('aborts the run on whichever process holds it, with who cancelled it, and forgets the request', async () => {
    const { prefix, redis, pools } = setUp();
    // Both subscribed before the cancel is published.
    await waitFor(
      async () => ((await redis.pubsub('NUMSUB', cancelChannel(prefix))) as [string, number])[1] === 2,
      'two listeners',
    );
    let started = false;
    const run = pools[1]?.run(
      'nap',
      'run-1',
      undefined,
      untilAborted(() => {
        started = true;
      }),
    );
    await waitFor(async () => started, 'the run to start');
    const asked = Date.now();
    expect(await requestCancel(redis, prefix, { schedule: 'nap', runId: 'run-1', by: 'api:alice' })).toBe(2);
    const error = await run?.catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(CancelledError);
    expect(error).toMatchObject({ by: 'api:alice', message: 'cancelled by api:alice' });
    expect(Date.now() - asked).toBeLessThan(500);
    expect(await redis.exists(cancelKey(prefix, 'nap', 'run-1'))).toBe(0);
  });

  it('a run whose cancel was asked before it started gets an aborted signal; a lost message is caught by the poll', async () => {
    const { prefix, redis, pools } = setUp();
    await redis.set(cancelKey(prefix, 'nap', 'early'), 'cli:bob');
    let ran = false;
    const early = await pools[0]?.run('nap', 'early', undefined, async (signal) => {
      ran = !signal.aborted;
      return signal.reason;
    });
    expect(ran).toBe(false);
    expect(early).toMatchObject({ name: 'CancelledError', by: 'cli:bob' });

    // Only the key, no message (as if the message was lost): the next poll, within a second.
    let started = false;
    const run = pools[0]?.run(
      'nap',
      'late',
      undefined,
      untilAborted(() => {
        started = true;
      }),
    );
    await waitFor(async () => started, 'the run to start');
    await sleep(50);
    await redis.set(cancelKey(prefix, 'nap', 'late'), 'grid:carol');
    const asked = Date.now();
    await expect(run).rejects.toMatchObject({ by: 'grid:carol' });
    expect(Date.now() - asked).toBeLessThan(1_500);
  });

  it("passes BullMQ's own abort through, and leaves other runs alone", async () => {
    const { prefix, redis, pools } = setUp();
    const outer = new AbortController();
    let started = 0;
    const closing = pools[0]?.run(
      'nap',
      'a',
      outer.signal,
      untilAborted(() => started++),
    );
    const other = pools[0]?.run(
      'nap',
      'b',
      undefined,
      untilAborted(() => started++),
    );
    await waitFor(async () => started === 2, 'both runs to start');
    outer.abort(new Error('worker closing'));
    await expect(closing).rejects.toThrow('worker closing');
    await requestCancel(redis, prefix, { schedule: 'other', runId: 'b', by: 'api:x' });
    const still = await Promise.race([
      other?.then(
        () => 'ended',
        () => 'ended',
      ),
      sleep(1_300).then(() => 'running'),
    ]);
    expect(still).toBe('running');
    await requestCancel(redis, prefix, { schedule: 'nap', runId: 'b', by: 'api:x' });
    await expect(other).rejects.toBeInstanceOf(CancelledError);
  });
});
