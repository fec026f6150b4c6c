import type pg from 'pg';
import type { Reason } from '../domain/predictor';
import { type AccountProfile, accountProfileSchema } from '../domain/profile';

/**
 * What a scoring run looks up by key: the transaction ids stored, account histories, and the alerts
 * and predictions it sends again.
 */

/** Where a lookup runs: a pooled connection (committed state), or the run's transaction (its own writes too). */
export type Lookup = { query(sql: string, params: unknown[]): Promise<{ rows: Record<string, unknown>[] }> };

/**
 * Lookups by key (a piece's, and the alerts and predictions sent again) probe the primary key once
 * per key. Asked as `where key = any($1)` or as a plain join, PostgreSQL priced 1,000 probes above
 * reading the whole table (its costs assume index pages come from disk) and read every row of it
 * for each piece: 200,000 analyzed transactions, 21 ms a piece against 3-6 ms by probes (measured).
 * A subquery with LIMIT per key has no plan but a probe of the key's index (checked on 100,000
 * analyzed rows, test/streaming/lookup-plans.test.ts). A key given twice gives its row twice.
 */
export const LOOKUP_SQL = {
  storedIds: byKey('uuid', 'select transaction_id as id from transactions where transaction_id = k.key'),
  profiles: byKey('text', 'select account_id, profile from account_profiles where account_id = k.key'),
  alerts: byKey(
    'uuid',
    `select transaction_id as "transactionId", account_id as "accountId", score, reasons
       from fraud_alerts where transaction_id = k.key`,
  ),
  predictions: byKey(
    'uuid',
    `select p.transaction_id as "transactionId", t.account_id as "accountId", p.score, p.is_fraud as "isFraud",
            p.reasons, p.model
       from predictions p join transactions t using (transaction_id) where p.transaction_id = k.key`,
  ),
};

/** `select`'s row for each key of the array $1 that has one; `select` names the key `k.key`. */
function byKey(keyType: 'uuid' | 'text', select: string): string {
  return `select r.* from unnest($1::${keyType}[]) as k (key) cross join lateral (${select} limit 1) r`;
}

/** Ids stored: committed ones on a pooled connection, with the run's own on its transaction's. */
export async function storedTransactionIds(db: Lookup, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query(LOOKUP_SQL.storedIds, [ids]);
  return new Set(rows.map((row) => row.id as string));
}

/** Committed history on a pooled connection, or with the run's own writes on its transaction's. */
export async function loadProfiles(db: Lookup, accountIds: string[]): Promise<Map<string, AccountProfile>> {
  if (accountIds.length === 0) return new Map();
  const { rows } = await db.query(LOOKUP_SQL.profiles, [accountIds]);
  return new Map(
    rows.map((row) => [row.account_id as string, parseProfile(row.account_id as string, row.profile)]),
  );
}

function parseProfile(accountId: string, value: unknown): AccountProfile {
  const parsed = accountProfileSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `account_profiles row for ${accountId} is not a valid profile (${issue?.path.join('.')}: ${issue?.message}); ` +
      'delete that row to let the account history rebuild',
  );
}

export interface AlertRow {
  transactionId: string;
  accountId: string;
  score: number;
  reasons: Reason[];
}

/** A stored prediction as the predictions topic carries it. */
export interface PredictionRow {
  transactionId: string;
  accountId: string;
  score: number;
  isFraud: boolean;
  reasons: Reason[];
  model: string;
}

export async function storedPredictions(db: pg.Pool, ids: string[]): Promise<PredictionRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<PredictionRow>(LOOKUP_SQL.predictions, [ids]);
  return rows;
}

export async function storedAlerts(db: pg.Pool, ids: string[]): Promise<AlertRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<AlertRow>(LOOKUP_SQL.alerts, [ids]);
  return rows;
}
