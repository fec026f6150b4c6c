import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob } from './job';

/**
 * Waits `ms` and returns; fails on purpose when asked. The smallest real job: useful to try a
 * schedule, and what the scheduler's own tests run (overlap, timeout, retry).
 */
export const sleepJob = defineJob({
  name: 'sleep',
  description: 'wait ms milliseconds (honours the timeout), optionally failing the first N attempts',
  params: z.strictObject({
    ms: z.number().int().min(0).max(3_600_000).default(0),
    failAttempts: z.number().int().min(0).default(0),
  }),
  async run(ctx, params) {
    const started = Date.now();
    await sleep(params.ms, undefined, { signal: ctx.signal });
    if (ctx.attempt <= params.failAttempts)
      throw new Error(`failing attempt ${ctx.attempt} on purpose (failAttempts=${params.failAttempts})`);
    return { sleptMs: Date.now() - started, attempt: ctx.attempt };
  },
});
