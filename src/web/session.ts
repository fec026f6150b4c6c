import { z } from 'zod';
import type { Caller } from './auth';
import { allows, ROLES } from './users-file';

export const sessionView = z
  .object({
    user: z
      .string()
      .describe('who the credentials name: a user, `token` for API_TOKEN, `local` without credentials'),
    role: z.enum(ROLES),
    readOnly: z
      .boolean()
      .describe('the server is read-only (WEB_READ_ONLY=true): nobody may change anything'),
    can: z
      .object({ toggle: z.boolean(), trigger: z.boolean(), backfill: z.boolean(), cancel: z.boolean() })
      .describe('what this caller may do here (role and read-only together)'),
  })
  .describe('Who is asking, and what they may do');
export type SessionView = z.infer<typeof sessionView>;

/** Who is asking and what they may do: the grid shows only what the role (and the server) allows. */
export function sessionOf(caller: Caller, readOnly: boolean): SessionView {
  const operate = !readOnly && allows(caller.role, 'operator');
  return {
    user: caller.user,
    role: caller.role,
    readOnly,
    can: { toggle: operate, trigger: operate, backfill: operate, cancel: operate },
  };
}
