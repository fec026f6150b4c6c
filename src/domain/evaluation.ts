import { scoreFeatures } from './model';
import { toKes } from './money';
import { featurize } from './scoring';
import { simulate } from './simulator';
import type { Transaction } from './transaction';

export interface Quality {
  /** Of the flagged, the share really fraud; null when nothing was flagged. */
  precision: number | null;
  /** Of the fraud, the share flagged; null when there was no fraud. */
  recall: number | null;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
}

export interface Comparison {
  labelled: number;
  fraud: number;
  model: Quality;
  rule: Quality;
}

/** The baseline the model must beat: flag every transaction at or above a fixed amount. */
export const DEFAULT_RULE_AMOUNT_KES = 50_000;

export function amountRule(transaction: Transaction, thresholdKes = DEFAULT_RULE_AMOUNT_KES): boolean {
  return toKes(transaction.amount, transaction.currency) >= thresholdKes;
}

export function quality(predicted: boolean[], actual: boolean[]): Quality {
  let truePositives = 0;
  let falsePositives = 0;
  let falseNegatives = 0;
  predicted.forEach((flagged, index) => {
    if (flagged && actual[index]) truePositives++;
    else if (flagged) falsePositives++;
    else if (actual[index]) falseNegatives++;
  });
  const ratio = (part: number, whole: number) =>
    whole === 0 ? null : Math.round((part / whole) * 1e4) / 1e4;
  return {
    precision: ratio(truePositives, truePositives + falsePositives),
    recall: ratio(truePositives, truePositives + falseNegatives),
    truePositives,
    falsePositives,
    falseNegatives,
  };
}

/** Model flags against the amount rule, over the transactions that carry a label. */
export function compare(
  transactions: Transaction[],
  modelFlags: boolean[],
  ruleAmountKes?: number,
): Comparison {
  const indexes = transactions.flatMap((transaction, index) => (transaction.label ? [index] : []));
  const labelled = indexes.map((index) => transactions[index] as Transaction);
  const actual = labelled.map((transaction) => transaction.label?.fraud === true);
  return {
    labelled: labelled.length,
    fraud: actual.filter(Boolean).length,
    model: quality(
      indexes.map((index) => modelFlags[index] === true),
      actual,
    ),
    rule: quality(
      labelled.map((transaction) => amountRule(transaction, ruleAmountKes)),
      actual,
    ),
  };
}

export interface SimulationEvaluation {
  count: number;
  fraudRate: number;
  seed: number;
  threshold: number;
  ruleAmountKes?: number;
}

/**
 * Where evaluation streams end. Fixed, not now: fraud depends on the hour (night patterns), so a
 * stream ending at the wall-clock time would give other figures for the same seed at another hour.
 */
const EVALUATION_END = new Date('2025-01-01T12:00:00Z');

/** Simulates a stream, scores it with the built-in model from empty history, and compares. */
export function evaluateSimulation(options: SimulationEvaluation): Comparison {
  const transactions = simulate({ ...options, endAt: EVALUATION_END });
  const items = featurize(transactions, new Map());
  const flags = items.map(({ features }) => scoreFeatures(features).score >= options.threshold);
  return compare(transactions, flags, options.ruleAmountKes);
}
