import { toKes } from './money';
import { isNight } from './nairobi-time';
import type { AccountProfile } from './profile';
import type { UnlabelledTransaction } from './transaction';

/** The model's inputs for one transaction, all derived from the transaction and the account's past. */
export interface Features {
  amountKes: number;
  /** The account's usual spend in KES (a population prior while history is short). */
  usualAmountKes: number;
  /** amountKes / usualAmountKes. */
  amountRatio: number;
  historyCount: number;
  /** The account's transactions in the 10 minutes before this one. */
  recentCount: number;
  /** A device this account has not used before (false while there is no history). */
  newDevice: boolean;
  /** A country this account has not transacted in before (false while there is no history). */
  newCountry: boolean;
  /** Between midnight and 5 am in Nairobi. */
  night: boolean;
}

const VELOCITY_WINDOW_MS = 10 * 60_000;
/** A new account is assumed to spend like a typical one until it has its own history. */
const PRIOR_LOG_AMOUNT = Math.log(1_500);
const PRIOR_WEIGHT = 2;

export function featuresOf(profile: AccountProfile, transaction: UnlabelledTransaction): Features {
  const at = Date.parse(transaction.timestamp);
  const amountKes = toKes(transaction.amount, transaction.currency);
  const n = profile.count;
  const usualAmountKes = Math.exp(
    (n * profile.meanLogAmount + PRIOR_WEIGHT * PRIOR_LOG_AMOUNT) / (n + PRIOR_WEIGHT),
  );
  const known = n > 0;
  return {
    amountKes,
    usualAmountKes,
    amountRatio: amountKes / usualAmountKes,
    historyCount: n,
    recentCount: profile.recent.filter((time) => time <= at && at - time < VELOCITY_WINDOW_MS).length,
    newDevice: known && transaction.deviceId !== undefined && !profile.devices.includes(transaction.deviceId),
    newCountry: known && !profile.countries.includes(transaction.country),
    night: isNight(at),
  };
}
