import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
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
  const { rows } = await db.query<PredictionRow>(
    `select p.transaction_id as "transactionId", t.account_id as "accountId", p.score, p.is_fraud as "isFraud",
            p.reasons, p.model
       from predictions p join transactions t using (transaction_id)
      where p.transaction_id = any($1::uuid[])`,
    [ids],
  );
  return rows;
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
 * One PostgreSQL transaction that takes scored rows piece by piece, so the caller can score the next
 * piece while PostgreSQL stores the previous one; nothing is visible until commit().
 *
 * Idempotent on transaction_id: the caller leaves out what is already stored, and if another
 * consumer wrote any of these transactions since they were checked, the primary key stops the COPY
 * and the whole transaction rolls back rather than update the history twice (ConcurrentWriteError;
 * the next run skips them).
 *
 * Rows go in with COPY straight into the tables: no per-statement array parameters to build and
 * parse, no conflict handling per row. That is safe because every transaction id added is new
 * (checked before, enforced by the primary key here), and predictions and alerts are only ever
 * written here, in the same transaction as their transactions row (see migration 003).
 *
 * (Migration 001's comment still says a redelivered message "upserts", and 003's names
 * saveScoredBatch: both mean this class now. Applied migrations are checksummed, so they keep their words.)
 */
export class ScoringWrite {
  /** Connection and `begin` come with the first rows: a run with nothing new touches nothing. */
  private client?: pg.PoolClient;
  /** The COPY statements queued so far, one after another on this transaction's connection. */
  private queue: Promise<void> = Promise.resolve();
  /** The queued COPYs not yet waited for by add(). */
  private readonly waiting: Promise<void>[] = [];
  private failure?: unknown;

  constructor(
    private readonly db: pg.Pool,
    private readonly model: string,
  ) {}

  /** The first error of a queued COPY, if any: a caller may stop early; commit() throws it anyway. */
  get failed(): unknown {
    return this.failure;
  }

  /**
   * Queues the rows' COPY behind the ones before. Resolves at once unless PostgreSQL is the slower side
   * and COPIES_AHEAD pieces already wait: then it waits for the oldest, so that a run holds a few
   * pieces' rows whatever its size.
   */
  async add(batch: ScoredTransaction[]): Promise<void> {
    if (batch.length === 0) return;
    const written = this.queue.then(async () => {
      this.client ??= await this.begin();
      await this.copy(this.client, batch);
    });
    this.queue = written;
    written.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.waiting.push(written);
    if (this.waiting.length > COPIES_AHEAD) await this.waiting.shift()?.catch(() => {});
  }

  /** Waits for every queued COPY, writes the profiles, commits; on any error rolls back and throws. */
  async commit(profiles: Map<string, AccountProfile>): Promise<void> {
    try {
      await this.queue;
      if (!this.client) return;
      await upsertProfiles(this.client, profiles);
      await this.client.query('commit');
    } catch (error) {
      await this.client?.query('rollback').catch(() => {});
      throw error;
    } finally {
      this.client?.release();
      this.client = undefined;
    }
  }

  /** Abandons the transaction (after a failure elsewhere in the run). */
  async rollback(): Promise<void> {
    await this.queue.catch(() => {});
    if (!this.client) return;
    await this.client.query('rollback').catch(() => {});
    this.client.release();
    this.client = undefined;
  }

  private async begin(): Promise<pg.PoolClient> {
    const client = await this.db.connect();
    try {
      await client.query('begin');
      return client;
    } catch (error) {
      client.release();
      throw error;
    }
  }

  private async copy(client: pg.PoolClient, batch: ScoredTransaction[]): Promise<void> {
    await copyInto(client, TRANSACTIONS_COPY, batch, transactionLine).catch((error: unknown) => {
      if (isUniqueViolation(error, 'transactions_pkey'))
        throw new ConcurrentWriteError(
          'some of these transactions were written by another consumer meanwhile; ' +
            'rolled back so account history is not counted twice (the next run skips them)',
        );
      throw error;
    });
    await copyInto(client, PREDICTIONS_COPY, batch, (row) => predictionLine(row, this.model)).catch(
      orphanError,
    );
    await copyInto(
      client,
      ALERTS_COPY,
      batch.filter((row) => row.prediction.isFraud),
      alertLine,
    ).catch(orphanError);
  }
}

const TRANSACTIONS_COPY = `copy transactions (transaction_id, account_id, counterparty, amount, currency, merchant,
    category, channel, country, county, device_id, occurred_at, source, label_fraud, label_pattern,
    kafka_topic, kafka_partition, kafka_offset) from stdin`;
const PREDICTIONS_COPY = 'copy predictions (transaction_id, score, is_fraud, reasons, model) from stdin';
/** Pieces queued behind the COPY in progress before add() waits. */
const COPIES_AHEAD = 2;

const ALERTS_COPY = 'copy fraud_alerts (transaction_id, account_id, score, reasons) from stdin';

/** Rows per piece written to the COPY stream: big enough to keep the socket busy, small in memory. */
const COPY_PIECE_ROWS = 2_000;

async function copyInto<Row>(
  client: pg.PoolClient,
  sql: string,
  rows: Iterable<Row>,
  line: (row: Row) => string,
): Promise<void> {
  const iterator = rows[Symbol.iterator]();
  const first = iterator.next();
  // Nothing to copy: no COPY statement either (a piece often has no alerts).
  if (first.done) return;
  function* pieces() {
    let text = line(first.value);
    let count = 1;
    for (let next = iterator.next(); !next.done; next = iterator.next()) {
      text += line(next.value);
      if (++count % COPY_PIECE_ROWS === 0) {
        yield text;
        text = '';
      }
    }
    if (text) yield text;
  }
  await pipeline(Readable.from(pieces()), client.query(copyFrom(sql)));
}

function transactionLine({ transaction: t, position }: ScoredTransaction): string {
  return (
    `${copyText(t.transactionId)}\t${copyText(t.accountId)}\t${copyText(t.counterparty)}\t${t.amount}\t` +
    `${copyText(t.currency)}\t${copyText(t.merchant)}\t${copyText(t.category)}\t${copyText(t.channel)}\t` +
    `${copyText(t.country)}\t${copyNullable(t.county)}\t${copyNullable(t.deviceId)}\t${copyText(t.timestamp)}\t${copyText(t.source)}\t` +
    `${t.label ? t.label.fraud : NULL}\t${copyNullable(t.label?.pattern)}\t` +
    `${copyText(position.topic)}\t${position.partition}\t${position.offset}\n`
  );
}

function predictionLine({ transaction, prediction }: ScoredTransaction, model: string): string {
  return (
    `${copyText(transaction.transactionId)}\t${prediction.score}\t${prediction.isFraud}\t` +
    `${copyText(JSON.stringify(prediction.reasons))}\t${copyText(model)}\n`
  );
}

function alertLine({ transaction, prediction }: ScoredTransaction): string {
  return (
    `${copyText(transaction.transactionId)}\t${copyText(transaction.accountId)}\t${prediction.score}\t` +
    `${copyText(JSON.stringify(prediction.reasons))}\n`
  );
}

/** COPY's text format: NULL is \N; backslash, tab, newline and carriage return are escaped. */
const NULL = '\\N';
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string) : value;
}

function copyNullable(value: string | null | undefined): string {
  return value === null || value === undefined ? NULL : copyText(value);
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: string; constraint?: string };
  return e.code === '23505' && e.constraint === constraint;
}

/** A prediction or alert row without its transaction row: only a hand edit of the tables makes one. */
function orphanError(error: unknown): never {
  const e = error as { code?: string; table?: string; constraint?: string };
  if (e.code === '23505')
    throw new Error(
      `${e.table} already has a row for a transaction that was not stored (${e.constraint}); ` +
        `delete the ${e.table} rows that have no transactions row to let these messages through`,
    );
  throw error;
}

/**
 * Profiles go into a temporary table by COPY, in pieces like the rows, then into account_profiles in
 * one upsert: a run that touched 200,000 accounts builds no single 30 MB parameter to send.
 */
async function upsertProfiles(client: pg.PoolClient, profiles: Map<string, AccountProfile>): Promise<void> {
  if (profiles.size === 0) return;
  await client.query('create temp table profile_updates (account_id text, profile jsonb) on commit drop');
  await copyInto(
    client,
    'copy profile_updates (account_id, profile) from stdin',
    profiles,
    ([account, profile]) => `${copyText(account)}\t${copyText(JSON.stringify(profile))}\n`,
  );
  await client.query(
    `insert into account_profiles (account_id, profile)
     select account_id, profile from profile_updates
     on conflict (account_id) do update set profile = excluded.profile, updated_at = now()`,
  );
}
