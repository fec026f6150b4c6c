import { redactText } from '../redact';
import { featuresOf } from './features';
import type { Prediction, Predictor, ScoringItem } from './predictor';
import { type AccountProfile, emptyProfile, foldProfile } from './profile';
import { type Transaction, withoutLabel } from './transaction';

/** Where featurize reads and writes account history: a Map, or a run's bounded store of recent accounts. */
export interface ProfileStore {
  get(account: string): AccountProfile | undefined;
  set(account: string, profile: AccountProfile): void;
}

/**
 * Features for each transaction in stream order, each against the account's history up to the
 * transaction before it. `profiles` is updated in place: afterwards it holds what to save.
 * The ground-truth label is removed here, the one way into a predictor, so no caller can leak it.
 */
export function featurize(transactions: Transaction[], profiles: ProfileStore): ScoringItem[] {
  return transactions.map((labelled) => {
    const transaction = withoutLabel(labelled);
    const profile = profiles.get(transaction.accountId) ?? emptyProfile();
    profiles.set(transaction.accountId, foldProfile(profile, transaction));
    return { transaction, features: featuresOf(profile, transaction) };
  });
}

export interface Scored extends Prediction {
  isFraud: boolean;
}

/** Asks the predictor and checks it answered for every transaction it was given. */
export async function score(
  items: ScoringItem[],
  predictor: Predictor,
  threshold: number,
  signal: AbortSignal,
): Promise<Scored[]> {
  if (items.length === 0) return [];
  const predictions = new Map((await predictor.predict(items, signal)).map((p) => [p.transactionId, p]));
  return items.map(({ transaction }) => {
    const prediction = predictions.get(transaction.transactionId);
    if (!prediction)
      throw new Error(
        `predictor ${redactText(predictor.name)} returned no prediction for ${transaction.transactionId}`,
      );
    // Fields spelt out, not `{ ...prediction, isFraud }`: in V8 a spread followed by a new field takes
    // a slow path (~1 µs), and this runs once per transaction.
    return {
      transactionId: prediction.transactionId,
      score: prediction.score,
      reasons: prediction.reasons,
      isFraud: prediction.score >= threshold,
    };
  });
}
