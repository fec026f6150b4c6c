import type { AccountProfile } from '../domain/profile';
import type { Logger } from '../log/logger';
import {
  alertLine,
  copyChunks,
  mergedText,
  type PieceText,
  predictionLine,
  profileText,
  transactionLine,
} from './copy-text';
import { type Lookup, loadProfiles, storedTransactionIds } from './scoring-lookups';
import type { ProfileWrites, ScoredTransaction } from './scoring-rows';
import { type TransactionConnection, traced } from './transaction-connection';
import {
  type LateSeconds,
  recordLateArrivals,
  recordStoredProgress,
  type StoredProgress,
} from './watermarks';

/**
 * What a consumer run records of its progress just before its commit, in its transaction (see
 * db/watermarks.ts): one statement each, sent with the last histories' writes.
 */
export interface RunProgressWrite {
  consumer: { schedule: string; topic: string };
  /** The partitions it took messages from (none: nothing is written). */
  partitions: StoredProgress[];
  /** Its transactions stored behind the watermark, by second of event time. */
  late: LateSeconds;
}

/** A redelivered transaction was written by someone else meanwhile: this run must not count it too. */
export class ConcurrentWriteError extends Error {
  override name = 'ConcurrentWriteError';
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
  private client?: TransactionConnection;
  /**
   * The steps not started, which more pieces or lookups may join: the write gathering pieces, and
   * the read, which goes first (see ownProfiles).
   */
  private openWrite?: PendingWrite;
  private openRead?: PendingRead;
  /** Runs the steps one after another on the connection while there are any; never rejects. */
  private running?: Promise<void>;
  /** Write steps not finished, oldest first, and the pieces they hold. */
  private readonly writes: Promise<void>[] = [];
  private unwritten = 0;
  private failure?: unknown;
  /** Something was queued: the transaction has begun, or will before anything queued after. */
  private started = false;
  /** The temporary table for account histories exists in this transaction. */
  private staging = false;
  /** commit(), rollback() or abort() was called: no step begins after that. */
  private ended = false;
  /** abort() was called, and why: commit() then commits nothing. */
  private aborted = false;
  private abortReason?: unknown;
  /** The transaction's PostgreSQL backend and its start, once begun: what abort() cancels. */
  private backend?: { pid: number; since: string };
  /** commit()'s own statements while they run: abort() cancels them too. */
  private finishing?: Promise<unknown>;
  /** abort()'s cancels while any are under way: the rollback goes after them, not amid them. */
  private cancelling?: Promise<void>;
  /** A cancel failed and was logged: the retries say nothing more. */
  private cancelFailed = false;

  /**
   * `connect` gives the connection the transaction runs on (see TransactionConnection); abort()
   * cancels its statement from `db`, another connection.
   */
  constructor(
    private readonly connect: () => Promise<TransactionConnection>,
    private readonly model: string,
    private readonly db: Lookup,
    private readonly log: Logger,
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
    write.ids.push(batch.map((row) => row.transaction.transactionId));
    for (const [account, profile] of evicted.created) write.evicted.created.set(account, profile);
    for (const [account, profile] of evicted.updated) write.evicted.updated.set(account, profile);
    this.unwritten++;
    this.run();
    if (this.unwritten > PIECES_UNWRITTEN) await this.writes[0]?.catch(() => {});
  }

  /**
   * History of accounts this run may have evicted: the run's own latest if it wrote one, else the
   * committed one; nothing written yet: none. A lookup must not wait for the write still gathering
   * pieces (PostgreSQL is then the slower side, and the run would go at the pace of its round
   * trips): what that write holds is answered from it, the rest read on the transaction before it.
   */
  async ownProfiles(accountIds: string[]): Promise<Map<string, AccountProfile>> {
    if (accountIds.length === 0 || !this.started) return new Map();
    const held = this.openWrite?.evicted;
    const found = new Map<string, AccountProfile>();
    const unread: string[] = [];
    for (const account of accountIds) {
      const profile = held?.updated.get(account) ?? held?.created.get(account);
      if (profile) found.set(account, profile);
      else unread.push(account);
    }
    if (unread.length === 0) return found;
    const { profiles } = await this.read({ accounts: unread });
    for (const account of unread) {
      const profile = profiles.get(account);
      if (profile) found.set(account, profile);
    }
    return found;
  }

  /** Which of these transaction ids are stored, this run's rows queued so far included (see ownProfiles). */
  async ownTransactionIds(ids: string[]): Promise<Set<string>> {
    if (ids.length === 0 || !this.started) return new Set();
    // Rare (an id met twice, or the Bloom filter's false "maybe"): the write's ids are not kept as a set.
    const held = new Set(this.openWrite?.ids.flat());
    const found = new Set(ids.filter((id) => held.has(id)));
    const unread = ids.filter((id) => !found.has(id));
    if (unread.length === 0) return found;
    const { stored } = await this.read({ ids: unread });
    for (const id of unread) if (stored.has(id)) found.add(id);
    return found;
  }

  /**
   * A write step, open to more pieces until it starts: pieces scored while PostgreSQL is busy go in
   * one COPY per table, not one each (each statement costs a round trip). A later evicted history of
   * an account replaces an earlier one.
   */
  private newWrite(): PendingWrite {
    const pieces: PieceText[] = [];
    const evicted: ProfileWrites = { created: new Map(), updated: new Map() };
    const step = this.step(async (client) => {
      await Promise.all([...copyRows(client, mergedText(pieces)), ...this.writeProfiles(client, evicted)]);
      this.unwritten -= pieces.length;
    });
    const write: PendingWrite = { ...step, pieces, evicted, ids: [] };
    this.openWrite = write;
    this.writes.push(write.done);
    void write.done.finally(() => this.writes.splice(this.writes.indexOf(write.done), 1)).catch(() => {});
    return write;
  }

  /**
   * Joins the lookups to the read step not started, or opens one. It runs before the write still
   * gathering pieces, so it sees every write that started before it; it may see later ones too,
   * never of what a lookup is for: an account being read back is pinned (not evicted again), and an
   * id met in a piece not yet queued is known without a lookup.
   */
  private read(lookups: { accounts?: string[]; ids?: string[] }): PendingRead['done'] {
    let read = this.openRead;
    if (!read) {
      const accounts = new Set<string>();
      const ids = new Set<string>();
      const step = this.step(async (client) => {
        const [profiles, stored] = await Promise.all([
          loadProfiles(client, [...accounts]),
          storedTransactionIds(client, [...ids]),
        ]);
        return { profiles, stored };
      });
      read = { ...step, accounts, ids };
      this.openRead = read;
    }
    for (const account of lookups.accounts ?? []) read.accounts.add(account);
    for (const id of lookups.ids ?? []) read.ids.add(id);
    this.run();
    return read.done;
  }

  /**
   * Waits for every queued write, writes the histories still in memory and the run's progress,
   * commits; on any error rolls back and throws.
   */
  async commit(profiles: ProfileWrites, progress?: RunProgressWrite): Promise<void> {
    try {
      // Every step queued runs first; none begins after.
      await this.running;
      this.ended = true;
      if (this.failure) throw this.failure;
      this.throwIfAborted();
      const client = this.client;
      if (!client) {
        // Nothing stored (every message invalid or stored before): no transaction, but the offsets
        // the run commits are still its progress (one statement; nothing can be late).
        if (progress) await recordStoredProgress(this.db, progress.consumer, progress.partitions);
        return;
      }
      // Sent together: the connection runs them back to back, then the commit.
      const finishing = Promise.all([
        ...this.writeProfiles(client, profiles),
        ...(progress ? recordProgress(client, progress) : []),
      ]);
      this.finishing = finishing;
      await finishing.finally(() => {
        this.finishing = undefined;
      });
      // Aborted while those histories were written: their statements may all have ended unharmed.
      this.throwIfAborted();
      await client.query('commit');
    } catch (error) {
      await this.rollbackAfterCancels();
      throw error;
    } finally {
      await this.release();
    }
  }

  /** A step does not start after a failure, or once the transaction is ending. */
  private throwIfEnded(): void {
    if (this.failure) throw this.failure;
    if (this.ended) throw new Error("the run's transaction has ended");
  }

  private throwIfAborted(): void {
    if (this.aborted) throw this.abortReason ?? new Error("the run's transaction was aborted");
  }

  /**
   * For a run aborted (its timeout, the worker stopping): no step begins, and the statements
   * PostgreSQL runs for it are cancelled. A statement waiting for a lock that another transaction
   * holds would otherwise keep this transaction, its locks and its connection until that lock went,
   * and rollback() would wait behind it. The cancelled statement fails the run (a step, or the
   * commit's own), which then rolls back.
   */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.ended = true;
    this.cancelling = this.cancelWhileBusy().finally(() => {
      this.cancelling = undefined;
    });
  }

  /**
   * A step sends its statements one after another: a cancel that lands between two of them cancels
   * nothing, and the next one may wait for the lock in its turn. So the cancel goes again every
   * CANCEL_AGAIN_MS until the work on the connection has settled.
   */
  private async cancelWhileBusy(): Promise<void> {
    for (let busy = this.busy(); busy; busy = this.busy()) {
      await this.cancel();
      let timer: NodeJS.Timeout | undefined;
      const again = new Promise((resolve) => {
        timer = setTimeout(resolve, CANCEL_AGAIN_MS);
      });
      await Promise.race([busy.catch(() => {}), again]);
      clearTimeout(timer);
    }
  }

  private busy(): Promise<unknown> | undefined {
    return this.running ?? this.finishing;
  }

  private async cancel(): Promise<void> {
    if (!this.backend) return;
    // Only while this transaction is open there: a pooled backend given back may run another's query by now.
    await this.db
      .query(
        'select pg_cancel_backend(pid) from pg_stat_activity where pid = $1 and xact_start = $2::timestamptz',
        [this.backend.pid, this.backend.since],
      )
      .catch((error) => {
        // The run still rolls back, once the statement ends of itself. Said once, not every retry.
        if (this.cancelFailed) return;
        this.cancelFailed = true;
        this.log.warn({ err: error }, "could not cancel the aborted run's statement");
      });
  }

  /** Abandons the transaction (after a failure elsewhere in the run). */
  async rollback(): Promise<void> {
    // The steps not started fail (the open write is not written for nothing), and a lookup of a check
    // still under way when the run failed begins no new transaction.
    this.ended = true;
    await this.running;
    await this.rollbackAfterCancels();
    await this.release();
  }

  /** Rolls back once abort()'s cancels are done: a cancel landing on the rollback would leave the transaction open. */
  private async rollbackAfterCancels(): Promise<void> {
    await this.cancelling;
    await this.client?.query('rollback').catch(() => {});
  }

  private async release(): Promise<void> {
    await this.client?.release();
    this.client = undefined;
  }

  /**
   * A step for the transaction's connection, begun (and the transaction with it) when run() gets to
   * it. After a failure no step starts: the rest fail with the first error, which is kept (statements
   * a failed step already sent still end on the connection, in the aborted transaction). A caller
   * that does not await `done` (a COPY ahead) raises no unhandled rejection.
   */
  private step<T>(work: (client: TransactionConnection) => Promise<T>): Step<T> {
    this.started = true;
    let start!: () => Promise<void>;
    const done = new Promise<T>((resolve, reject) => {
      start = async () => {
        try {
          this.throwIfEnded();
          this.client ??= await this.begin();
          // Again: abort() may have come while connecting, with no statement to cancel yet.
          this.throwIfEnded();
          resolve(await work(this.client));
        } catch (error) {
          this.failure ??= error;
          reject(error);
        }
      };
    });
    done.catch(() => {});
    return { done, start };
  }

  /** Runs the steps not started, the read first, until none is left; one at a time on the connection. */
  private run(): void {
    if (this.running || !(this.openRead ?? this.openWrite)) return;
    this.running = this.runSteps();
  }

  private async runSteps(): Promise<void> {
    for (let next = this.takeNext(); next; next = this.takeNext()) await next.start();
    // In the same tick as the last look for a step: one queued after this starts a new run().
    this.running = undefined;
  }

  private takeNext(): Step<unknown> | undefined {
    const next = this.openRead ?? this.openWrite;
    if (next === this.openRead) this.openRead = undefined;
    else this.openWrite = undefined;
    return next;
  }

  /**
   * New accounts' histories go straight into account_profiles by COPY. If another consumer created one
   * of those rows meanwhile (a partition handed over mid-run), the primary key stops the COPY and the
   * run rolls back; the next run reads that history. Its statements go out together (see copyRows).
   */
  private writeProfiles(client: TransactionConnection, profiles: ProfileWrites): Promise<unknown>[] {
    const created = copyNew(
      client,
      PROFILES_COPY,
      profileText(profiles.created),
      'account_profiles_pkey',
      'an account with no history when this run read it was given one by another consumer meanwhile; ' +
        'rolled back so its history is not overwritten (the next run reads it)',
    );
    return [created, ...this.upsertProfiles(client, profileText(profiles.updated))];
  }

  /**
   * Known accounts' histories go into a temporary table by COPY, then into account_profiles in one upsert:
   * no parameter to build per profile. The table lives as long as the transaction; each write empties it.
   */
  private upsertProfiles(client: TransactionConnection, profiles: Buffer[]): Promise<unknown>[] {
    if (profiles.length === 0) return [];
    const staged = client.query(
      this.staging
        ? 'truncate profile_updates'
        : 'create temp table profile_updates (account_id text, profile jsonb) on commit drop',
    );
    this.staging = true;
    return [
      staged,
      client.copyFrom('copy profile_updates (account_id, profile) from stdin', profiles),
      client.query(
        `insert into account_profiles (account_id, profile)
         select account_id, profile from profile_updates
         on conflict (account_id) do update set profile = excluded.profile, updated_at = now()`,
      ),
    ];
  }

  private async begin(): Promise<TransactionConnection> {
    const client = traced(await this.connect());
    try {
      await client.query('begin');
      const { rows } = await client.query<{ pid: number; since: string }>(
        'select pg_backend_pid() as pid, now()::text as since',
      );
      this.backend = rows[0];
      return client;
    } catch (error) {
      await client.release();
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

const ALERTS_COPY = 'copy fraud_alerts (transaction_id, account_id, score, reasons) from stdin';

/**
 * Pieces scored but not yet written before add() waits: ~0.5 MB of COPY data each. The more wait
 * while PostgreSQL is busy, the fewer and larger its COPYs (200,000-message run, median of 3:
 * 0.40× the COPY-alone reference at 4, 0.46× at 12, 0.50× at 24, 0.52× at 48).
 */
const PIECES_UNWRITTEN = 24;

/** How often abort() cancels again while the run's statements go on (see cancelWhileBusy). */
const CANCEL_AGAIN_MS = 100;

/** A step queued for the transaction's connection: `start` runs it and settles `done`. */
interface Step<T> {
  done: Promise<T>;
  start: () => Promise<void>;
}

interface PendingWrite extends Step<void> {
  pieces: PieceText[];
  evicted: ProfileWrites;
  /** The transaction ids of its pieces, piece by piece. */
  ids: string[][];
}

interface PendingRead extends Step<{ profiles: Map<string, AccountProfile>; stored: Set<string> }> {
  accounts: Set<string>;
  ids: Set<string>;
}

/** A run's progress on its transaction's connection: a statement each, none when there is nothing to say. */
function recordProgress(client: TransactionConnection, progress: RunProgressWrite): Promise<void>[] {
  return [
    recordStoredProgress(client, progress.consumer, progress.partitions),
    recordLateArrivals(client, progress.consumer.schedule, progress.late),
  ];
}

/**
 * A write's COPYs, asked for together: the connection runs them in order without waiting for this
 * thread between them (it may be busy scoring). After a failed one, the rest fail too (the
 * transaction is aborted); the first error is the one that counts, and it comes first.
 */
function copyRows(client: TransactionConnection, text: PieceText): Promise<void>[] {
  return [
    copyNew(
      client,
      TRANSACTIONS_COPY,
      text.transactions,
      'transactions_pkey',
      'some of these transactions were written by another consumer meanwhile; ' +
        'rolled back so account history is not counted twice (the next run skips them)',
    ),
    client.copyFrom(PREDICTIONS_COPY, text.predictions).catch(orphanError),
    client.copyFrom(ALERTS_COPY, text.alerts).catch(orphanError),
  ];
}

/**
 * COPYs rows the run checked were not stored: a primary key that stops it means another consumer wrote
 * one meanwhile (a partition handed over mid-run), said as a ConcurrentWriteError with `why`.
 */
async function copyNew(
  client: TransactionConnection,
  sql: string,
  chunks: Buffer[],
  primaryKey: string,
  why: string,
): Promise<void> {
  await client.copyFrom(sql, chunks).catch((error: unknown) => {
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
