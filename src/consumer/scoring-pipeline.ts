import type pg from 'pg';
import {
  type AlertRow,
  loadProfiles,
  type PredictionRow,
  storedAlerts,
  storedPredictions,
  storedTransactionIds,
} from '../db/scoring-lookups';
import type { ScoredTransaction } from '../db/scoring-rows';
import { ScoringWrite } from '../db/scoring-write';
import type { TransactionConnection } from '../db/transaction-connection';
import { QualityTally } from '../domain/evaluation';
import type { Predictor } from '../domain/predictor';
import type { AccountProfile } from '../domain/profile';
import { featurize, score } from '../domain/scoring';
import type {
  ConsumedMessage,
  DeadLetterInput,
  DeadLetterReason,
  OutgoingRecord,
  StreamClient,
} from '../kafka/stream-client';
import type { Logger } from '../log/logger';
import type { FreshnessProbe } from '../metrics/freshness';
import { tracing } from '../telemetry/tracing';
import { IdLog } from './id-log';
import { RecentProfiles } from './recent-profiles';
import { RunProgress } from './run-progress';
import { SeenIds } from './seen-ids';
import { type ValidMessage, validate } from './validate';

export interface ScoringDeps {
  /** Committed state: lookups, and predictions read back after the commit. */
  db: pg.Pool;
  /** The connection the run's one transaction holds (see TransactionConnection). */
  transaction: () => Promise<TransactionConnection>;
  kafka: StreamClient;
  predictor: Predictor;
  log: Logger;
  signal: AbortSignal;
  /** Told of each piece stored, the commit and the alerts sent (the run's freshness). */
  freshness?: FreshnessProbe;
}

export interface ScoringSettings {
  /** The consumer schedule and the topic it reads: whose progress (and watermark) the run records. */
  schedule: string;
  topic: string;
  /** The consumer group it reads as (what its traces say). */
  group: string;
  /**
   * The schedule's event-time watermark as read at the start of the run (null: none yet): the
   * transactions the run stores with an earlier event time are recorded as late arrivals.
   */
  watermark: Date | null;
  /** Score at or above which a transaction is flagged and alerted. */
  threshold: number;
  maxMessageBytes: number;
  dlqTopic: string;
  alertsTopic: string;
  /** Where each prediction is published, keyed by transaction id; none when undefined. */
  predictionsTopic?: string;
  /** Accounts whose history a run keeps in memory (see RecentProfiles). */
  recentAccounts: number;
}

/**
 * One consumer run's messages, piece by piece as they are fetched: validate and look up (up to
 * CHECKED_AHEAD pieces ahead) → score against account history → COPY into the run's one PostgreSQL
 * transaction, which stores earlier pieces while later ones are scored. Dead letters go out in
 * batches as they gather; the last ones before the commit, then alerts and predictions. Any failure
 * before the commit rolls everything back; the caller then commits no offsets.
 */
export async function scoreAndStore(
  pieces: AsyncIterable<ConsumedMessage[]>,
  deps: ScoringDeps,
  settings: ScoringSettings,
) {
  const run = new ScoringRun(deps, settings);
  const traces = tracing();
  // With traces on, each piece's wait is a span linked to the producer runs of its records.
  const input = traces ? traces.kafkaReceive(settings.topic, settings.group, pieces) : pieces;
  const ahead: Promise<Checked>[] = [];
  // An aborted run stops whatever PostgreSQL is doing for it (see ScoringWrite.abort), then rolls back.
  const abort = () => run.abortWrites(deps.signal.reason);
  deps.signal.addEventListener('abort', abort, { once: true });
  try {
    // Each piece's lookups go out while the pieces before it are scored: PostgreSQL answers them
    // meanwhile instead of Node waiting for them.
    for await (const piece of input) {
      const checked = run.check(piece);
      checked.catch(() => {});
      ahead.push(checked);
      if (ahead.length > CHECKED_AHEAD) await run.score(await (ahead.shift() as Promise<Checked>));
    }
    for (const checked of ahead) await run.score(await checked);
    await run.store();
  } catch (error) {
    await run.abandon();
    throw error;
  } finally {
    deps.signal.removeEventListener('abort', abort);
  }
  await run.publish();
  return run.counts();
}

/**
 * Pieces checked ahead of the one being scored. A lookup on the run's own transaction (an evicted
 * account, an id perhaps met before) waits for the write PostgreSQL is doing: checked this far
 * ahead, it has the time of this many pieces' scoring to get there. (With 1: ~60 % of a run's wall
 * time was spent waiting for those lookups, 1,000-message pieces. With 8, the lookups of more
 * pieces at once took CPU from the run's COPYs: 0.41× the reference against 0.53× with 3.)
 */
const CHECKED_AHEAD = 3;

/** A validated piece with what PostgreSQL held of it when it was checked. */
interface Checked {
  /** Its place in the run (1, 2, …) and its accounts: pinned in memory until it is scored. */
  index: number;
  accounts: Set<string>;
  /** Every transaction id it met (repeats too): the run's exact note of them ends once it is queued. */
  ids: string[];
  valid: ValidMessage[];
  /** Its transaction ids already stored (by an earlier run that did not commit its offsets). */
  stored: Set<string>;
  /** The history of its accounts not in memory when checked (absent: no history yet). */
  profiles: Map<string, AccountProfile>;
}

/**
 * Dead letters kept before they are sent while the run goes on: a run of mostly bad input holds this
 * many, not all of them. (Sent before the commit all the same; a run that fails after sending some
 * sends them again when retried: the DLQ is at-least-once, like a crash before the offset commit.)
 */
const DEAD_LETTERS_AHEAD = 1_000;
/** …or this many bytes of values: a dead letter may be up to maxMessageBytes (1 MB by default). */
const DEAD_LETTER_BYTES_AHEAD = 16 * 1024 * 1024;

/** Predictions read back from PostgreSQL and sent at a time, after the commit. */
const PREDICTIONS_PAGE = 5_000;

class ScoringRun {
  /** Transaction ids met in this run: one met twice is kept once. */
  private readonly seen = new SeenIds();
  /** Dead letters not yet sent, and the sends under way. */
  private invalid: DeadLetterInput[] = [];
  private invalidBytes = 0;
  /** Redelivered ids met in this run (exact: rare): one met again is left out like any repeat. */
  private readonly redelivered = new Set<string>();
  private deadLetters: Promise<unknown> = Promise.resolve();
  private readonly invalidByReason: Partial<Record<DeadLetterReason, number>> = {};
  /**
   * What goes out after the commit: alerts of the transactions this run stored, and again those of
   * redelivered ones (stored by an earlier run that may have died before sending), kept as records
   * (~5 % of messages); and when predictions are published, the ids whose stored prediction goes.
   */
  private readonly alerts: OutgoingRecord[] = [];
  private readonly predictions = new IdLog();
  private readonly quality = new QualityTally();
  private readonly write: ScoringWrite;
  /** Offsets taken, newest event times stored and late arrivals: recorded in the transaction. */
  private readonly progress: RunProgress;
  private consumed = 0;
  private pieces = 0;
  private valid = 0;
  private invalidCount = 0;
  private scored = 0;
  private flagged = 0;
  private published = { alerts: 0, predictions: 0 };
  /**
   * History of the accounts with a fresh transaction in this run, up to the latest one scored: the
   * recent ones in memory, the others written (or queued to be written) into the run's transaction. An account with
   * only redelivered transactions is not written back: that could overwrite what the partition's new
   * owner wrote meanwhile, with nothing here to detect it.
   */
  private readonly profiles: RecentProfiles;

  constructor(
    private readonly deps: ScoringDeps,
    private readonly settings: ScoringSettings,
  ) {
    this.write = new ScoringWrite(deps.transaction, deps.predictor.name, deps.db, deps.log);
    this.profiles = new RecentProfiles(settings.recentAccounts);
    this.progress = new RunProgress(settings.watermark);
  }

  /**
   * Validates a piece and looks up what PostgreSQL already holds of it: its transactions (redelivered)
   * and the history of its accounts not in memory. Runs ahead of scoring: committed state on pooled
   * connections, and on the run's transaction (behind its queued writes) what the run itself wrote
   * and no longer holds: evicted accounts, and ids it perhaps met before.
   */
  async check(messages: ConsumedMessage[]): Promise<Checked> {
    if (this.consumed === 0)
      this.deps.log.info(
        { piece: messages.length },
        'writing scored batch to PostgreSQL, piece by piece as it is fetched and scored',
      );
    this.consumed += messages.length;
    this.progress.taken(messages);
    const index = ++this.pieces;
    const piece = validate(messages, { ids: this.seen, piece: index }, this.settings.maxMessageBytes);
    await this.deadLetter(piece.invalid);
    const { db } = this.deps;
    const ids = piece.valid.map((v) => v.transaction.transactionId);
    const accounts = new Set(piece.valid.map((v) => v.transaction.accountId));
    // An account in memory has its history here already (and a newer one than stored).
    const unread = this.profiles.reserve(index, accounts);
    // All at once: two pooled connections, and the run's own behind its queued COPYs.
    const [stored, profiles, own, ownIds] = await Promise.all([
      storedTransactionIds(db, ids),
      loadProfiles(db, unread.stored),
      this.write.ownProfiles(unread.own),
      this.write.ownTransactionIds(piece.maybeSeen),
    ]);
    for (const [account, profile] of own) profiles.set(account, profile);
    this.profiles.noHistory(unread.stored.filter((account) => !profiles.has(account)));
    const valid = this.withoutRepeats(piece.valid, ownIds, stored);
    this.valid += valid.length;
    return { index, accounts, ids, valid, stored, profiles };
  }

  /**
   * Scores a checked piece and queues its rows on the transaction, with the history of the accounts
   * that memory no longer has room for; stops at a failed COPY.
   */
  async score(piece: Checked): Promise<void> {
    if (this.write.failed) throw this.write.failed;
    const scored = await this.scoreFresh(piece);
    for (const row of scored) this.tally(row);
    this.deps.freshness?.queued(scored);
    this.profiles.release(piece.index, piece.accounts);
    const written = this.write.add(scored, this.profiles.evict());
    this.seen.queued(piece.index, piece.ids);
    await written;
  }

  /** Dead letters, then the commit: after this, the run's rows are in PostgreSQL. */
  async store(): Promise<void> {
    // A failed COPY ends the run here, before the rest goes to the dead-letter topic.
    if (this.write.failed) throw this.write.failed;
    this.sendDeadLetters();
    await this.deadLetters;
    // A run past its timeout has already been reported failed: its writes must not land now.
    this.deps.signal.throwIfAborted();
    const { schedule, topic } = this.settings;
    await this.write.commit(this.profiles.inMemory(), {
      consumer: { schedule, topic },
      partitions: this.progress.partitions(),
      late: this.progress.late,
    });
    this.deps.freshness?.committed();
  }

  /** The run was aborted: what PostgreSQL is doing for it stops now, and nothing is committed. */
  abortWrites(reason: unknown): void {
    this.write.abort(reason);
  }

  /** Rolls back first: dead letters still being sent must not keep the transaction and its locks open. */
  async abandon(): Promise<void> {
    await this.write.rollback();
    await this.deadLetters.catch(() => {});
  }

  /** Alerts and predictions (see `alerts`): keyed by transaction id, so readers dedupe. */
  async publish(): Promise<void> {
    const { db, kafka, signal } = this.deps;
    await kafka.send(this.settings.alertsTopic, this.alerts, signal);
    this.deps.freshness?.published();
    this.published.alerts = this.alerts.length;
    const topic = this.settings.predictionsTopic;
    if (topic === undefined) return;
    for (const ids of this.predictions.pages(PREDICTIONS_PAGE)) {
      const records = (await storedPredictions(db, ids)).map(predictionRecord);
      await kafka.send(topic, records, signal);
      this.published.predictions += records.length;
    }
  }

  counts() {
    const evaluation = this.quality.result();
    return {
      consumed: this.consumed,
      valid: this.valid,
      invalid: this.invalidCount,
      ...(this.invalidCount > 0 ? { invalidByReason: this.invalidByReason } : {}),
      scored: this.scored,
      flagged: this.flagged,
      alerts: this.published.alerts,
      ...(this.settings.predictionsTopic === undefined ? {} : { predictions: this.published.predictions }),
      ...(evaluation.labelled > 0
        ? { quality: { model: evaluation.model, amountRule: evaluation.rule } }
        : {}),
    };
  }

  /**
   * Counts a piece's dead letters and sends them once enough wait (see DEAD_LETTERS_AHEAD), unless a
   * write has already failed (the run will be retried): then they wait for the retry. While a send is
   * under way the piece waits for it, so unsent dead letters never pile up.
   */
  private async deadLetter(invalid: DeadLetterInput[]): Promise<void> {
    for (const { reason, message } of invalid) {
      this.invalidByReason[reason] = (this.invalidByReason[reason] ?? 0) + 1;
      this.invalidBytes += message.value?.length ?? 0;
    }
    this.invalidCount += invalid.length;
    this.invalid.push(...invalid);
    const full = this.invalid.length >= DEAD_LETTERS_AHEAD || this.invalidBytes >= DEAD_LETTER_BYTES_AHEAD;
    if (!full || this.write.failed) return;
    await this.deadLetters.catch(() => {});
    this.sendDeadLetters();
  }

  /** Sends the waiting dead letters behind the sends before; store() waits for them all. */
  private sendDeadLetters(): void {
    if (this.invalid.length === 0) return;
    const batch = this.invalid;
    this.invalid = [];
    this.invalidBytes = 0;
    const { kafka, signal, log } = this.deps;
    // No dead letter can fail the run: one the DLQ refuses for its size goes again, truncated.
    this.deadLetters = this.deadLetters.then(() =>
      kafka.sendDeadLetters(this.settings.dlqTopic, batch, { signal, log }),
    );
    this.deadLetters.catch(() => {});
  }

  /** Scores the transactions not yet in PostgreSQL, against their accounts' history. */
  private async scoreFresh({ valid, stored, profiles }: Checked): Promise<ScoredTransaction[]> {
    const { predictor, signal } = this.deps;
    const fresh: ValidMessage[] = [];
    const redelivered: string[] = [];
    for (const v of valid) {
      const again = stored.has(v.transaction.transactionId);
      this.progress.stored(v.position.partition, v.transaction.timestamp, !again);
      if (again) {
        redelivered.push(v.transaction.transactionId);
        continue;
      }
      fresh.push(v);
      // The history read for this piece, unless the run has scored the account since (the lookup of
      // piece n+1 goes out before piece n is scored; the run's own history is the newer).
      const account = v.transaction.accountId;
      const history = profiles.get(account);
      if (history && !this.profiles.has(account)) this.profiles.set(account, history);
    }
    await this.sendAgain(redelivered);
    const items = featurize(
      fresh.map((v) => v.transaction),
      this.profiles,
    );
    const predictions = await score(items, predictor, this.settings.threshold, signal);
    return fresh.map((v, i) => ({
      transaction: v.transaction,
      position: v.position,
      prediction: predictions[i] as ScoredTransaction['prediction'],
    }));
  }

  /**
   * Leaves out the ids the run met before: found on its own transaction, where an earlier piece put
   * them; or, for one stored before the run (redelivered, which that lookup cannot tell from its first
   * copy), met earlier in this run.
   */
  private withoutRepeats(valid: ValidMessage[], ownIds: Set<string>, stored: Set<string>): ValidMessage[] {
    if (ownIds.size === 0 && stored.size === 0) return valid;
    return valid.filter(({ transaction: { transactionId: id } }) => {
      if (!stored.has(id)) return !ownIds.has(id);
      if (this.redelivered.has(id)) return false;
      this.redelivered.add(id);
      return true;
    });
  }

  /** Redelivered transactions are not scored again, but their stored alerts and predictions go again. */
  private async sendAgain(redelivered: string[]): Promise<void> {
    if (redelivered.length === 0) return;
    for (const alert of await storedAlerts(this.deps.db, redelivered)) this.alerts.push(alertRecord(alert));
    if (this.settings.predictionsTopic === undefined) return;
    for (const id of redelivered) this.predictions.add(id);
  }

  /** Keeps what the end of the run needs of a scored row: counts, its alert, its prediction's id. */
  private tally({ transaction, prediction }: ScoredTransaction): void {
    this.scored++;
    this.quality.add(transaction, prediction.isFraud);
    if (prediction.isFraud) {
      this.flagged++;
      const { transactionId, accountId } = transaction;
      this.alerts.push(
        alertRecord({ transactionId, accountId, score: prediction.score, reasons: prediction.reasons }),
      );
    }
    if (this.settings.predictionsTopic !== undefined) this.predictions.add(transaction.transactionId);
  }
}

/** Keyed by transaction id: a re-sent alert has the same key, so alert consumers can deduplicate. */
function alertRecord(alert: AlertRow): OutgoingRecord {
  return { key: alert.transactionId, value: JSON.stringify(alert) };
}

/** Keyed by transaction id, like alerts: a prediction sent again replaces itself for a keyed reader. */
function predictionRecord(prediction: PredictionRow): OutgoingRecord {
  return { key: prediction.transactionId, value: JSON.stringify(prediction) };
}
