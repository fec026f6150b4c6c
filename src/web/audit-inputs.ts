import { z } from 'zod';
import { SINCE_HINT, sinceOf } from '../control/audit';

/** GET /audit's query: which entries of the audit log, a page at a time. */
export const auditInputs = {
  audit: z.strictObject({
    schedule: z.string().min(1).optional().describe("only this schedule's entries"),
    since: z
      .string()
      .transform((text, ctx) => {
        const at = sinceOf(text);
        if (at === undefined) ctx.addIssue({ code: 'custom', message: SINCE_HINT });
        return at ?? new Date(0);
      })
      .optional()
      .describe('entries at or after this time: ISO 8601 with a zone, or how far back, e.g. 24h'),
    limit: z.coerce.number().int().min(1).max(500).default(100),
    before: z.string().optional().describe('the `next` of the previous page'),
  }),
};
