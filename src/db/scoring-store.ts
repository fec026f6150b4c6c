import type pg from 'pg';
import type { Reason } from '../domain/predictor';
import { type AccountProfile, accountProfileSchema } from '../domain/profile';
import type { Scored } from '../domain/scoring';
import type { Transaction } from '../domain/transaction';

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

export interface AlertRow {
  transactionId: string;
  accountId: string;
  score: number;
  reasons: Reason[];
}

/** A redelivered transaction was written by someone else meanwhile: this run must not count it too. */
export class ConcurrentWriteError extends Error {
  override name = 'ConcurrentWriteError';
}

/** Bulk statements take whole columns as arrays; chunks bound the size of one statement. */
const CHUNK_ROWS = 20_000;

export async function storedTransactionIds(db: pg.Pool, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    'select transaction_id as id from transactions where transaction_id = any($1::uuid[])',
    [ids],
  );
  return new Set(rows.map((row) => row.id));
}

export async function loadProfiles(db: pg.Pool, accountIds: string[]): Promise<Map<string, AccountProfile>> {
  if (accountIds.length === 0) return new Map();
  const { rows } = await db.query<{ account_id: string; profile: unknown }>(
    'select account_id, profile from account_profiles where account_id = any($1::text[])',
    [accountIds],
  );
  return new Map(rows.map((row) => [row.account_id, parseProfile(row.account_id, row.profile)]));
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

export async function storedAlerts(db: pg.Pool, ids: string[]): Promise<AlertRow[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<AlertRow>(
    `select transaction_id as "transactionId", account_id as "accountId", score, reasons
       from fraud_alerts where transaction_id = any($1::uuid[])`,
    [ids],
  );
  return rows;
}

/**
 * Writes a scored batch in ONE transaction: transactions, predictions, alerts for the flagged ones,
 * and the updated account profiles. Idempotent on transaction_id; if another consumer wrote any of
 * these transactions since they were checked, it rolls back rather than update the history twice.
 */
export async function saveScoredBatch(
  db: pg.Pool,
  batch: ScoredTransaction[],
  profiles: Map<string, AccountProfile>,
  model: string,
): Promise<void> {
  if (batch.length === 0) return;
  const client = await db.connect();
  try {
    await client.query('begin');
    for (let start = 0; start < batch.length; start += CHUNK_ROWS) {
      const chunk = batch.slice(start, start + CHUNK_ROWS);
      const inserted = await insertTransactions(client, chunk);
      if (inserted !== chunk.length)
        throw new ConcurrentWriteError(
          `${chunk.length - inserted} of ${chunk.length} transactions were written by another consumer meanwhile; ` +
            'rolled back so account history is not counted twice (the next run skips them)',
        );
      await insertPredictions(client, chunk, model);
      await insertAlerts(client, chunk);
    }
    await upsertProfiles(client, profiles);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

async function insertTransactions(client: pg.PoolClient, batch: ScoredTransaction[]): Promise<number> {
  const column = <T>(pick: (row: ScoredTransaction) => T) => batch.map(pick);
  const result = await client.query(
    `insert into transactions (transaction_id, account_id, counterparty, amount, currency, merchant, category,
        channel, country, device_id, occurred_at, source, label_fraud, label_pattern,
        kafka_topic, kafka_partition, kafka_offset)
     select * from unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[], $5::text[], $6::text[], $7::text[],
        $8::text[], $9::text[], $10::text[], $11::timestamptz[], $12::text[], $13::boolean[], $14::text[],
        $15::text[], $16::integer[], $17::bigint[])
     on conflict (transaction_id) do nothing`,
    [
      column((r) => r.transaction.transactionId),
      column((r) => r.transaction.accountId),
      column((r) => r.transaction.counterparty),
      column((r) => r.transaction.amount),
      column((r) => r.transaction.currency),
      column((r) => r.transaction.merchant),
      column((r) => r.transaction.category),
      column((r) => r.transaction.channel),
      column((r) => r.transaction.country),
      column((r) => r.transaction.deviceId ?? null),
      column((r) => r.transaction.timestamp),
      column((r) => r.transaction.source),
      column((r) => r.transaction.label?.fraud ?? null),
      column((r) => r.transaction.label?.pattern ?? null),
      column((r) => r.position.topic),
      column((r) => r.position.partition),
      column((r) => r.position.offset),
    ],
  );
  return result.rowCount ?? 0;
}

async function insertPredictions(
  client: pg.PoolClient,
  batch: ScoredTransaction[],
  model: string,
): Promise<void> {
  await client.query(
    `insert into predictions (transaction_id, score, is_fraud, reasons, model)
     select id, score, is_fraud, reasons, $5 from unnest($1::uuid[], $2::float8[], $3::boolean[], $4::jsonb[])
       as p(id, score, is_fraud, reasons)
     on conflict (transaction_id) do nothing`,
    [
      batch.map((r) => r.transaction.transactionId),
      batch.map((r) => r.prediction.score),
      batch.map((r) => r.prediction.isFraud),
      batch.map((r) => JSON.stringify(r.prediction.reasons)),
      model,
    ],
  );
}

async function insertAlerts(client: pg.PoolClient, batch: ScoredTransaction[]): Promise<void> {
  const flagged = batch.filter((r) => r.prediction.isFraud);
  if (flagged.length === 0) return;
  await client.query(
    `insert into fraud_alerts (transaction_id, account_id, score, reasons)
     select * from unnest($1::uuid[], $2::text[], $3::float8[], $4::jsonb[])
     on conflict (transaction_id) do nothing`,
    [
      flagged.map((r) => r.transaction.transactionId),
      flagged.map((r) => r.transaction.accountId),
      flagged.map((r) => r.prediction.score),
      flagged.map((r) => JSON.stringify(r.prediction.reasons)),
    ],
  );
}

async function upsertProfiles(client: pg.PoolClient, profiles: Map<string, AccountProfile>): Promise<void> {
  if (profiles.size === 0) return;
  await client.query(
    `insert into account_profiles (account_id, profile)
     select * from unnest($1::text[], $2::jsonb[])
     on conflict (account_id) do update set profile = excluded.profile, updated_at = now()`,
    [[...profiles.keys()], [...profiles.values()].map((profile) => JSON.stringify(profile))],
  );
}
