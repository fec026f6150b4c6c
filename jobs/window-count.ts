import { z } from 'zod';
import { defineJob, PermanentError } from '../src/runtime/job';

/**
 * A data check: counts the transactions stored in the run's window and fails when there are fewer
 * than `minimum`. Run it `after:` a consumer, or on a clock with a `watermark:`, so that the window
 * it counts is complete.
 */
export const windowCountJob = defineJob({
  name: 'window-count',
  description: "count the transactions stored in the run's window; fail below a minimum",
  overridable: ['minimum'],
  params: z.strictObject({ minimum: z.number().int().min(0).default(0) }),
  async run(ctx, params) {
    const { rows } = await ctx.db.query<{ n: number }>(
      'select count(*)::int as n from transactions where occurred_at >= $1 and occurred_at < $2',
      [ctx.window.from, ctx.window.to],
    );
    const transactions = rows[0]?.n ?? 0;
    if (transactions < params.minimum) {
      throw new PermanentError(
        `${transactions} transactions in the window, fewer than minimum ${params.minimum}`,
      );
    }
    return { transactions };
  },
});
