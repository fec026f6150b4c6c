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

/** One predictor's flags against the truth, counted as they come. */
class Confusion {
  private truePositives = 0;
  private falsePositives = 0;
  private falseNegatives = 0;

  add(flagged: boolean, actual: boolean): void {
    if (flagged && actual) this.truePositives++;
    else if (flagged) this.falsePositives++;
    else if (actual) this.falseNegatives++;
  }

  quality(): Quality {
    const { truePositives, falsePositives, falseNegatives } = this;
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
}

export function quality(predicted: boolean[], actual: boolean[]): Quality {
  const confusion = new Confusion();
  for (const [index, flagged] of predicted.entries()) confusion.add(flagged, actual[index] === true);
  return confusion.quality();
}

/**
 * Model flags against the amount rule, over the transactions that carry a label, counted as they
 * come: a consumer run tallies piece by piece, in constant memory, instead of keeping every
 * transaction to the end.
 */
export class QualityTally {
  private labelled = 0;
  private fraud = 0;
  private readonly model = new Confusion();
  private readonly rule = new Confusion();

  constructor(private readonly ruleAmountKes?: number) {}

  add(transaction: Transaction, modelFlag: boolean): void {
    if (!transaction.label) return;
    const actual = transaction.label.fraud;
    this.labelled++;
    if (actual) this.fraud++;
    this.model.add(modelFlag, actual);
    this.rule.add(amountRule(transaction, this.ruleAmountKes), actual);
  }

  result(): Comparison {
    return {
      labelled: this.labelled,
      fraud: this.fraud,
      model: this.model.quality(),
      rule: this.rule.quality(),
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
