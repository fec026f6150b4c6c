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

/** Account histories to write: `created` have no row in account_profiles yet, as far as the run knows. */
export interface ProfileWrites {
  created: Map<string, AccountProfile>;
  updated: Map<string, AccountProfile>;
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

/** Ids stored: committed ones on a pooled connection, with the run's own on its transaction's. */
export async function storedTransactionIds(db: pg.Pool | pg.PoolClient, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    'select transaction_id as id from transactions where transaction_id = any($1::uuid[])',
    [ids],
  );
  return new Set(rows.map((row) => row.id));
}

/** Committed history on a pooled connection, or with the run's own writes on its transaction's. */
export async function loadProfiles(
  db: pg.Pool | pg.PoolClient,
  accountIds: string[],
): Promise<Map<string, AccountProfile>> {
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
  /** The write and read steps queued but not started, which more pieces or lookups may join. */
  private openWrite?: PendingWrite;
  private openRead?: PendingRead;
  /** Write steps not finished, oldest first, and the pieces they hold. */
  private readonly writes: Promise<void>[] = [];
  private unwritten = 0;
  private failure?: unknown;
  /** Something was queued: the transaction has begun, or will before anything queued after. */
  private started = false;
  /** The temporary table for account histories exists in this transaction. */
  private staging = false;

  constructor(
    private readonly db: pg.Pool,
    private readonly model: string,
  ) {}

  /** The first error of a queued COPY, if any: a caller may stop early; commit() throws it anyway. */
  get failed(): unknown {
    return this.failure;
  }

  /**
   * Queues the rows' COPY, and the write of the account histories the run evicted from memory, behind
   * the ones before. Resolves at once unless PostgreSQL is the slower side and more than
   * PIECES_UNWRITTEN pieces wait: then it waits for the oldest write, so that a run holds a few
   * pieces' rows whatever its size.
   */
  async add(batch: ScoredTransaction[], evicted: ProfileWrites): Promise<void> {
    if (batch.length === 0 && evicted.created.size === 0 && evicted.updated.size === 0) return;
    const write = this.openWrite ?? this.newWrite();
    // As COPY data now: the queue then holds compact bytes, not every row's objects.
    write.pieces.push(this.pieceText(batch));
    for (const [account, profile] of evicted.created) write.evicted.created.set(account, profile);
    for (const [account, profile] of evicted.updated) write.evicted.updated.set(account, profile);
    this.unwritten++;
    if (this.unwritten > PIECES_UNWRITTEN) await this.writes[0]?.catch(() => {});
  }

  /**
   * History of accounts this run may have evicted, read on its transaction behind the writes queued
   * so far: the run's own latest if it wrote one, else the committed one. Nothing written yet: none.
   */
  async ownProfiles(accountIds: string[]): Promise<Map<string, AccountProfile>> {
    if (accountIds.length === 0 || !this.started) return new Map();
    const read = this.openRead ?? this.newRead();
    for (const account of accountIds) read.accounts.add(account);
    const { profiles } = await read.done;
    return new Map(
      accountIds.flatMap((account) => {
        const profile = profiles.get(account);
        return profile ? [[account, profile] as const] : [];
      }),
    );
  }

  /** Which of these transaction ids are stored, this run's rows queued so far included (see ownProfiles). */
  async ownTransactionIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0 || !this.started) return new Set();
    const read = this.openRead ?? this.newRead();
    for (const id of ids) read.ids.add(id);
    const { stored } = await read.done;
    return new Set(ids.filter((id) => stored.has(id)));
  }

  /**
   * A write step, open to more pieces until it starts: pieces scored while PostgreSQL is busy go in
   * one COPY per table, not one each (each statement costs a round trip, which waits whenever Node is
   * busy scoring). A later evicted history of an account replaces an earlier one.
   */
  private newWrite(): PendingWrite {
    const write: PendingWrite = { pieces: [], evicted: { created: new Map(), updated: new Map() } };
    this.openWrite = write;
    // A read asked for after this write must come after it.
    this.openRead = undefined;
    const done = this.enqueue(async (client) => {
      if (this.openWrite === write) this.openWrite = undefined;
      await copyRows(client, mergedText(write.pieces));
      await this.writeProfiles(client, write.evicted);
      this.unwritten -= write.pieces.length;
    });
    this.writes.push(done);
    void done.finally(() => this.writes.splice(this.writes.indexOf(done), 1)).catch(() => {});
    return write;
  }

  /**
   * A read step, open to more lookups until it starts or a write is queued after it. It may see
   * writes queued after the lookup was asked for: never of what the lookup is for, since an account
   * being read back is pinned (not evicted again) and an id met in a piece not yet queued is known
   * without a lookup.
   */
  private newRead(): PendingRead {
    const read = { accounts: new Set<string>(), ids: new Set<string>() } as PendingRead;
    this.openRead = read;
    read.done = this.enqueue(async (client) => {
      if (this.openRead === read) this.openRead = undefined;
      const [profiles, stored] = [
        await loadProfiles(client, [...read.accounts]),
        await storedTransactionIds(client, [...read.ids]),
      ];
      return { profiles, stored };
    });
    return read;
  }

  /** Waits for every queued write, writes the histories still in memory, commits; on any error rolls back and throws. */
  async commit(profiles: ProfileWrites): Promise<void> {
    try {
      await this.queue;
      if (!this.client) return;
      await this.writeProfiles(this.client, profiles);
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

  /**
   * Runs `step` on the transaction's connection after every step queued before (beginning the
   * transaction first if need be). The first failure is kept, and no later step runs.
   */
  private enqueue<T>(step: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    this.started = true;
    const done = this.queue.then(async () => {
      this.client ??= await this.begin();
      return step(this.client);
    });
    // The first failure is kept here, and commit() and rollback() meet it again through the queue; a
    // caller that awaits `done` gets it too, one that does not (a COPY ahead) raises no unhandled rejection.
    done.catch((error: unknown) => {
      this.failure ??= error;
    });
    this.queue = done.then(() => {});
    this.queue.catch(() => {});
    return done;
  }

  /**
   * New accounts' histories go straight into account_profiles by COPY. If another consumer created one
   * of those rows meanwhile (a partition handed over mid-run), the primary key stops the COPY and the
   * run rolls back; the next run reads that history.
   */
  private async writeProfiles(client: pg.PoolClient, profiles: ProfileWrites): Promise<void> {
    await copyNew(
      client,
      PROFILES_COPY,
      profileText(profiles.created),
      'account_profiles_pkey',
      'an account with no history when this run read it was given one by another consumer meanwhile; ' +
        'rolled back so its history is not overwritten (the next run reads it)',
    );
    await this.upsertProfiles(client, profileText(profiles.updated));
  }

  /**
   * Known accounts' histories go into a temporary table by COPY, then into account_profiles in one upsert:
   * no parameter to build per profile. The table lives as long as the transaction; each write empties it.
   */
  private async upsertProfiles(client: pg.PoolClient, profiles: Buffer[]): Promise<void> {
    if (profiles.length === 0) return;
    await client.query(
      this.staging
        ? 'truncate profile_updates'
        : 'create temp table profile_updates (account_id text, profile jsonb) on commit drop',
    );
    this.staging = true;
    await copyInto(client, 'copy profile_updates (account_id, profile) from stdin', profiles);
    await client.query(
      `insert into account_profiles (account_id, profile)
       select account_id, profile from profile_updates
       on conflict (account_id) do update set profile = excluded.profile, updated_at = now()`,
    );
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

  /** A piece's rows as COPY data for each table, in chunks of COPY_PIECE_ROWS rows. */
  private pieceText(batch: ScoredTransaction[]): PieceText {
    return {
      transactions: copyChunks(batch, transactionLine),
      predictions: copyChunks(batch, (row) => predictionLine(row, this.model)),
      alerts: copyChunks(
        batch.filter((row) => row.prediction.isFraud),
        alertLine,
      ),
    };
  }
}

const TRANSACTIONS_COPY = `copy transactions (transaction_id, account_id, counterparty, amount, currency, merchant,
    category, channel, country, county, device_id, occurred_at, source, label_fraud, label_pattern,
    kafka_topic, kafka_partition, kafka_offset) from stdin`;
const PROFILES_COPY = 'copy account_profiles (account_id, profile) from stdin';
const PREDICTIONS_COPY = 'copy predictions (transaction_id, score, is_fraud, reasons, model) from stdin';
/** Pieces scored but not yet written before add() waits. */
const PIECES_UNWRITTEN = 4;

interface PendingWrite {
  pieces: PieceText[];
  evicted: ProfileWrites;
}

interface PendingRead {
  accounts: Set<string>;
  ids: Set<string>;
  done: Promise<{ profiles: Map<string, AccountProfile>; stored: Set<string> }>;
}

const ALERTS_COPY = 'copy fraud_alerts (transaction_id, account_id, score, reasons) from stdin';

/** Rows per piece written to the COPY stream: big enough to keep the socket busy, small in memory. */
const COPY_PIECE_ROWS = 2_000;

/** A piece's COPY data, table by table. */
interface PieceText {
  transactions: Buffer[];
  predictions: Buffer[];
  alerts: Buffer[];
}

function mergedText(pieces: PieceText[]): PieceText {
  return {
    transactions: pieces.flatMap((piece) => piece.transactions),
    predictions: pieces.flatMap((piece) => piece.predictions),
    alerts: pieces.flatMap((piece) => piece.alerts),
  };
}

async function copyRows(client: pg.PoolClient, text: PieceText): Promise<void> {
  await copyNew(
    client,
    TRANSACTIONS_COPY,
    text.transactions,
    'transactions_pkey',
    'some of these transactions were written by another consumer meanwhile; ' +
      'rolled back so account history is not counted twice (the next run skips them)',
  );
  await copyInto(client, PREDICTIONS_COPY, text.predictions).catch(orphanError);
  await copyInto(client, ALERTS_COPY, text.alerts).catch(orphanError);
}

/**
 * Rows as COPY data, COPY_PIECE_ROWS lines a chunk: big enough to keep the socket busy. Encoded now
 * (the socket would encode them anyway): bytes outside the JavaScript heap wait in the queue, not
 * thousands of strings for the garbage collector to promote and trace.
 */
function copyChunks<Row>(rows: Iterable<Row>, line: (row: Row) => string): Buffer[] {
  const chunks: Buffer[] = [];
  let text = '';
  let count = 0;
  for (const row of rows) {
    text += line(row);
    if (++count % COPY_PIECE_ROWS === 0) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text) chunks.push(Buffer.from(text));
  return chunks;
}

/** Account histories as COPY text for profile_updates. */
function profileText(profiles: ReadonlyMap<string, AccountProfile>): Buffer[] {
  return copyChunks(
    profiles,
    ([account, profile]) => `${copyText(account)}\t${copyText(JSON.stringify(profile))}\n`,
  );
}

async function copyInto(client: pg.PoolClient, sql: string, chunks: Buffer[]): Promise<void> {
  // Nothing to copy: no COPY statement either (a piece often has no alerts).
  if (chunks.length === 0) return;
  await pipeline(Readable.from(chunks), client.query(copyFrom(sql)));
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

/**
 * COPYs rows the run checked were not stored: a primary key that stops it means another consumer wrote
 * one meanwhile (a partition handed over mid-run), said as a ConcurrentWriteError with `why`.
 */
async function copyNew(
  client: pg.PoolClient,
  sql: string,
  chunks: Buffer[],
  primaryKey: string,
  why: string,
): Promise<void> {
  await copyInto(client, sql, chunks).catch((error: unknown) => {
    if (isUniqueViolation(error, primaryKey)) throw new ConcurrentWriteError(why);
    throw error;
  });
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
