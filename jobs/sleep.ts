import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { defineJob, PermanentError } from '../src/runtime/job';

/**
 * Waits `ms` and returns; fails on purpose when asked. The smallest real job: useful to try a
 * schedule, and what the scheduler's own tests run (overlap, timeout, retry).
 */
export const sleepJob = defineJob({
  name: 'sleep',
  description: 'wait ms milliseconds (honours the timeout), optionally failing the first N attempts',
  // No destination at all: every param is harmless.
  overridable: ['ms', 'failAttempts', 'permanent'],
  params: z.strictObject({
    ms: z.number().int().min(0).max(3_600_000).default(0),
    failAttempts: z.number().int().min(0).default(0),
    /** Fail as a retry cannot fix: the run fails at its first failed attempt, retries unused. */
    permanent: z.boolean().optional(),
  }),
  async run(ctx, params) {
    const started = Date.now();
    await sleep(params.ms, undefined, { signal: ctx.signal });
    if (ctx.attempt <= params.failAttempts) {
      const message = `failing attempt ${ctx.attempt} on purpose (failAttempts=${params.failAttempts})`;
      throw params.permanent ? new PermanentError(message) : new Error(message);
    }
    return { sleptMs: Date.now() - started, attempt: ctx.attempt };
  },
});
