import type { AccountProfile } from '../domain/profile';
import type { Scored } from '../domain/scoring';
import type { Transaction } from '../domain/transaction';

/**
 * What a scoring run carries from the topic to its tables: each transaction with where it was read
 * and its score, and the account histories to write.
 */

/** Where a transaction was read from, kept with it for tracing. */
export interface KafkaPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface ScoredTransaction {
  transaction: Transaction;
  position: KafkaPosition;
  prediction: Scored;
}

/** Account histories to write: `created` have no row in account_profiles yet, as far as the run knows. */
export interface ProfileWrites {
  created: Map<string, AccountProfile>;
  updated: Map<string, AccountProfile>;
}
