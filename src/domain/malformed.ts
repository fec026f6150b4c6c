import type { Random } from './random';
import type { Transaction } from './transaction';

/**
 * Deliberately bad message bodies, for testing the dead-letter path: each breaks the contract in
 * a way a real upstream bug would (cut-off JSON, a negative amount, a missing field, a bad date).
 */
const breakers: Array<(transaction: Transaction) => string> = [
  (transaction) => JSON.stringify(transaction).slice(0, 40),
  (transaction) => JSON.stringify({ ...transaction, amount: -transaction.amount }),
  ({ accountId: _accountId, ...rest }) => JSON.stringify(rest),
  (transaction) => JSON.stringify({ ...transaction, timestamp: 'yesterday at noon' }),
  (transaction) => JSON.stringify({ ...transaction, transactionId: 'TXN-0001' }),
];

export function malformed(transaction: Transaction, random: Random): string {
  return random.pick(breakers)(transaction);
}
