import type { Features } from './features';
import type { Prediction, Predictor, Reason, ScoringItem } from './predictor';

/**
 * The built-in model: a weighted sum of a few readable signals squashed into 0–1. Deterministic and
 * explainable: every point in the score comes with a reason. Weights were set against the
 * simulator's labels (`tickflow eval`), not learned.
 */
export const MODEL_NAME = 'builtin-v1';
/** Score 0.5 needs this many points: one strong signal, or two weaker ones together. */
const BIAS = -5;

// Not toLocaleString: that costs microseconds per call, and every flagged-or-not transaction is explained.
const formatKes = (amount: number) => `KES ${String(Math.round(amount)).replace(/\B(?=(\d{3})+$)/g, ',')}`;

function reasonsFor(features: Features): Reason[] {
  const reasons: Reason[] = [];
  const spike = 2.5 * Math.log(features.amountRatio / 2.5);
  if (spike > 0)
    reasons.push({
      signal: 'amount_above_usual',
      weight: spike,
      detail: `${formatKes(features.amountKes)} is ${features.amountRatio.toFixed(1)}× the usual ${formatKes(features.usualAmountKes)}`,
    });
  if (features.recentCount > 0)
    reasons.push({
      signal: 'velocity',
      weight: 2.5 * features.recentCount,
      detail: `${features.recentCount} other transaction(s) in the previous 10 minutes`,
    });
  if (features.newDevice)
    reasons.push({ signal: 'new_device', weight: 2.2, detail: 'a device this account has not used before' });
  if (features.newCountry)
    reasons.push({
      signal: 'new_country',
      weight: 2.2,
      detail: 'a country this account has not used before',
    });
  if (features.night)
    reasons.push({ signal: 'night', weight: 1.2, detail: 'between midnight and 5 am (EAT)' });
  for (const reason of reasons) reason.weight = Math.round(reason.weight * 100) / 100;
  return reasons;
}

export function scoreFeatures(features: Features): { score: number; reasons: Reason[] } {
  const reasons = reasonsFor(features);
  const points = reasons.reduce((sum, reason) => sum + reason.weight, BIAS);
  const score = 1 / (1 + Math.exp(-points));
  return { score: Math.round(score * 10_000) / 10_000, reasons: reasons.sort((a, b) => b.weight - a.weight) };
}

export const builtinPredictor: Predictor = {
  name: MODEL_NAME,
  async predict(items: ScoringItem[]): Promise<Prediction[]> {
    return items.map(({ transaction, features }) => ({
      transactionId: transaction.transactionId,
      ...scoreFeatures(features),
    }));
  },
};
