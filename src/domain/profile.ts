import { z } from 'zod';
import { toKes } from './money';
import type { UnlabelledTransaction } from './transaction';

/**
 * What the model remembers of an account between runs (kept in PostgreSQL, `account_profiles`):
 * how much it usually spends, where and from which devices, and when it last transacted.
 */
export const accountProfileSchema = z.object({
  count: z.number().int().min(0),
  /** Running mean of ln(amount in KES): the account's usual spend on a log scale. */
  meanLogAmount: z.number(),
  devices: z.array(z.string()),
  countries: z.array(z.string()),
  /** Epoch milliseconds of the latest transactions, for velocity. */
  recent: z.array(z.number()),
});

export type AccountProfile = z.infer<typeof accountProfileSchema>;

const MAX_DEVICES = 5;
const MAX_COUNTRIES = 10;
const MAX_RECENT = 10;
/** After this many transactions the usual amount follows recent habits instead of all history. */
const AMOUNT_MEMORY = 50;

export const emptyProfile = (): AccountProfile => ({
  count: 0,
  meanLogAmount: 0,
  devices: [],
  countries: [],
  recent: [],
});

/** The profile after one more transaction (pure: the caller decides where to keep it). */
export function foldProfile(profile: AccountProfile, transaction: UnlabelledTransaction): AccountProfile {
  const logAmount = Math.log(toKes(transaction.amount, transaction.currency));
  const weight = 1 / Math.min(profile.count + 1, AMOUNT_MEMORY);
  return {
    count: profile.count + 1,
    meanLogAmount: profile.meanLogAmount + weight * (logAmount - profile.meanLogAmount),
    devices: remember(profile.devices, transaction.deviceId, MAX_DEVICES),
    countries: remember(profile.countries, transaction.country, MAX_COUNTRIES),
    recent: appendRecent(profile.recent, Date.parse(transaction.timestamp)),
  };
}

/** The latest MAX_RECENT times, oldest first (one array allocated per transaction, not two). */
function appendRecent(recent: number[], at: number): number[] {
  const kept = recent.length >= MAX_RECENT ? recent.slice(recent.length - MAX_RECENT + 1) : recent.slice();
  kept.push(at);
  return kept;
}

/** Most recent first, without duplicates, at most `limit` entries. */
function remember(known: string[], value: string | undefined, limit: number): string[] {
  if (value === undefined) return known;
  // The usual case (same device, same country as last time) changes nothing; profiles are never
  // mutated, so the old and new profile may share the array.
  if (known[0] === value && known.length <= limit) return known;
  return [value, ...known.filter((item) => item !== value)].slice(0, limit);
}
