import { DEFAULT_RULE_AMOUNT_KES, toKes } from './money';
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
