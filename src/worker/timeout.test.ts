import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { RunTimeoutError, withTimeout } from './timeout';

describe('withTimeout', () => {
  it('returns what the work returns in time', async () => {
    expect(await withTimeout(1_000, undefined, async () => 'done')).toBe('done');
  });

  it('aborts the signal and fails with RunTimeoutError when the work honours it', async () => {
    let seen: AbortSignal | undefined;
    const run = withTimeout(50, undefined, (signal) => {
      seen = signal;
      return sleep(5_000, undefined, { signal });
    });
    await expect(run).rejects.toThrow(new RunTimeoutError(50));
    expect(seen?.aborted).toBe(true);
  });

  it('fails on time even when the work ignores the signal', async () => {
    const started = Date.now();
    await expect(withTimeout(50, undefined, () => sleep(1_000))).rejects.toBeInstanceOf(RunTimeoutError);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('passes an outer abort (a worker shutting down) through to the work', async () => {
    const outer = new AbortController();
    const run = withTimeout(5_000, outer.signal, (signal) => sleep(5_000, undefined, { signal }));
    outer.abort(new Error('worker closing'));
    await expect(run).rejects.toThrow('worker closing');
  });

  it('fails at once with the reason of an outer signal aborted before it started (a run cancelled while it waited)', async () => {
    const outer = new AbortController();
    outer.abort(new Error('cancelled by api:alice'));
    let seen: AbortSignal | undefined;
    const started = Date.now();
    const run = withTimeout(5_000, outer.signal, (signal) => {
      seen = signal;
      return sleep(1_000);
    });
    await expect(run).rejects.toThrow('cancelled by api:alice');
    expect(seen?.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it("keeps the work's own error", async () => {
    await expect(
      withTimeout(1_000, undefined, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
  });
});
