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

/**
 * Model flags against the amount rule, over the transactions that carry a label, counted as they
 * come: a consumer run tallies piece by piece instead of keeping every transaction to the end.
 */
export class QualityTally {
  private readonly modelFlags: boolean[] = [];
  private readonly ruleFlags: boolean[] = [];
  private readonly actual: boolean[] = [];

  constructor(private readonly ruleAmountKes?: number) {}

  add(transaction: Transaction, modelFlag: boolean): void {
    if (!transaction.label) return;
    this.actual.push(transaction.label.fraud);
    this.modelFlags.push(modelFlag);
    this.ruleFlags.push(amountRule(transaction, this.ruleAmountKes));
  }

  result(): Comparison {
    return {
      labelled: this.actual.length,
      fraud: this.actual.filter(Boolean).length,
      model: quality(this.modelFlags, this.actual),
      rule: quality(this.ruleFlags, this.actual),
    };
  }
}

/** Model flags against the amount rule, over the transactions that carry a label. */
export function compare(
  transactions: Transaction[],
  modelFlags: boolean[],
  ruleAmountKes?: number,
): Comparison {
  const tally = new QualityTally(ruleAmountKes);
  for (const [index, transaction] of transactions.entries())
    tally.add(transaction, modelFlags[index] === true);
  return tally.result();
}
