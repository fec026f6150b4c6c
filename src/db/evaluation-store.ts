import type pg from 'pg';
import { type Comparison, quality } from '../domain/evaluation';
import { DEFAULT_RULE_AMOUNT_KES, toKes } from '../domain/money';

/** How the stored predictions did against the labels stored with their transactions. */
export async function evaluateStored(
  db: pg.Pool,
  ruleAmountKes = DEFAULT_RULE_AMOUNT_KES,
): Promise<Comparison> {
  const { rows } = await db.query<{
    is_fraud: boolean;
    label_fraud: boolean;
    amount: number;
    currency: string;
  }>(
    `select p.is_fraud, t.label_fraud, t.amount, t.currency
       from predictions p join transactions t using (transaction_id)
      where t.label_fraud is not null`,
  );
  const actual = rows.map((row) => row.label_fraud);
  return {
    labelled: rows.length,
    fraud: actual.filter(Boolean).length,
    model: quality(
      rows.map((row) => row.is_fraud),
      actual,
    ),
    rule: quality(
      rows.map((row) => toKes(row.amount, row.currency.trim()) >= ruleAmountKes),
      actual,
    ),
  };
}
