import type pg from 'pg';
import {
  type AlertRow,
  loadProfiles,
  type PredictionRow,
  type ScoredTransaction,
  ScoringWrite,
  storedAlerts,
  storedPredictions,
  storedTransactionIds,
} from '../db/scoring-store';
import { QualityTally } from '../domain/evaluation';
import type { Predictor } from '../domain/predictor';
import type { AccountProfile } from '../domain/profile';
import { featurize, score } from '../domain/scoring';
import type { ConsumedMessage } from '../kafka/bounded-consumer';
import type { DeadLetterInput, DeadLetterReason } from '../kafka/dead-letter';
import type { OutgoingRecord, StreamClient } from '../kafka/stream-client';
import type { Logger } from '../log/logger';
import { type ValidMessage, validate } from './validate';

export interface ScoringDeps {
  db: pg.Pool;
  kafka: StreamClient;
  predictor: Predictor;
  log: Logger;
  signal: AbortSignal;
}

export interface ScoringSettings {
  /** Score at or above which a transaction is flagged and alerted. */
  threshold: number;
  maxMessageBytes: number;
  dlqTopic: string;
  alertsTopic: string;
  /** Where each prediction is published, keyed by transaction id; none when undefined. */
  predictionsTopic?: string;
}

/**
 * One consumer run's messages, piece by piece as they are fetched: validate → score against account
 * history → COPY into the run's one PostgreSQL transaction, which stores piece n while piece n+1 is
 * scored and piece n+2 fetched. Then dead letters, the commit, and alerts and predictions. Any
 * failure before the commit rolls everything back; the caller then commits no offsets.
 */
export async function scoreAndStore(
  pieces: AsyncIterable<ConsumedMessage[]>,
  deps: ScoringDeps,
  settings: ScoringSettings,
) {
  const run = new ScoringRun(deps, settings);
  let previous: Promise<Checked> | undefined;
  try {
    // Each piece's lookups go out while the piece before it is scored: PostgreSQL answers them
    // meanwhile instead of Node waiting for them.
    for await (const piece of pieces) {
      const checked = run.check(piece);
      checked.catch(() => {});
      if (previous) await run.score(await previous);
      previous = checked;
    }
    if (previous) await run.score(await previous);
    await run.store();
  } catch (error) {
    await run.abandon();
    throw error;
  }
  await run.publish();
  return run.counts();
}

/** A validated piece with what PostgreSQL held of it when it was checked. */
interface Checked {
  valid: ValidMessage[];
  /** Its transaction ids already stored (by an earlier run that did not commit its offsets). */
  stored: Set<string>;
  /** The stored history of its accounts not yet scored in this run (absent: no history yet). */
  profiles: Map<string, AccountProfile>;
}

class ScoringRun {
  /** Transaction ids met in this run: one seen twice is kept once. */
  private readonly seen = new Set<string>();
  private readonly invalid: DeadLetterInput[] = [];
  /** Already in PostgreSQL before this run: not scored again, but their alerts and predictions go again. */
  private readonly redelivered: string[] = [];
  private readonly alerts: AlertRow[] = [];
  private readonly predictions: OutgoingRecord[] = [];
  private readonly quality = new QualityTally();
  private readonly write: ScoringWrite;
  private consumed = 0;
  private valid = 0;
  private scored = 0;
  private flagged = 0;
  private published = { alerts: 0, predictions: 0 };
  /**
   * History of the accounts with a fresh transaction in this run, up to the latest one scored: what
   * commit writes back. An account with only redelivered transactions is not written back: that could
   * overwrite what the partition's new owner wrote meanwhile, with nothing here to detect it.
   */
  private readonly profiles = new Map<string, AccountProfile>();

  constructor(
    private readonly deps: ScoringDeps,
    private readonly settings: ScoringSettings,
  ) {
    this.write = new ScoringWrite(deps.db, deps.predictor.name);
  }

  /**
   * Validates a piece and looks up what PostgreSQL already holds of it: its transactions (redelivered)
   * and its accounts' stored history. Reads committed state only, so it may run ahead of scoring.
   */
  async check(messages: ConsumedMessage[]): Promise<Checked> {
    if (this.consumed === 0)
      this.deps.log.info(
        { piece: messages.length },
        'writing scored batch to PostgreSQL, piece by piece as it is fetched and scored',
      );
    this.consumed += messages.length;
    const piece = validate(messages, this.seen, this.settings.maxMessageBytes);
    this.invalid.push(...piece.invalid);
    this.valid += piece.valid.length;
    const { db } = this.deps;
    const accounts = [...new Set(piece.valid.map((v) => v.transaction.accountId))];
    // An account scored earlier in the run has its history here already (and a newer one than stored).
    const unread = accounts.filter((account) => !this.profiles.has(account));
    // Both at once, on two pooled connections (the run's COPY holds a third).
    const [stored, profiles] = await Promise.all([
      storedTransactionIds(
        db,
        piece.valid.map((v) => v.transaction.transactionId),
      ),
      loadProfiles(db, unread),
    ]);
    return { valid: piece.valid, stored, profiles };
  }

  /** Scores a checked piece and queues its rows on the transaction; stops at a failed COPY. */
  async score(piece: Checked): Promise<void> {
    if (this.write.failed) throw this.write.failed;
    const scored = await this.scoreFresh(piece);
    for (const row of scored) this.tally(row);
    await this.write.add(scored);
  }

  /** Dead letters, then the commit: after this, the run's rows are in PostgreSQL. */
  async store(): Promise<void> {
    // A failed COPY ends the run here, before anything goes to the dead-letter topic.
    if (this.write.failed) throw this.write.failed;
    // No dead letter can fail the run: one the DLQ refuses for its size goes again, truncated.
    await this.deps.kafka.sendDeadLetters(this.settings.dlqTopic, this.invalid, {
      signal: this.deps.signal,
      log: this.deps.log,
    });
    // A run past its timeout has already been reported failed: its writes must not land now.
    this.deps.signal.throwIfAborted();
    await this.write.commit(this.profiles);
  }

  abandon(): Promise<void> {
    return this.write.rollback();
  }

  /**
   * Alerts and predictions of what this run stored, and again those of redelivered transactions: the
   * run that stored them may have died before sending. Keyed by transaction id, so readers dedupe.
   */
  async publish(): Promise<void> {
    const { db, kafka, signal } = this.deps;
    const alerts = [...this.alerts, ...(await storedAlerts(db, this.redelivered))];
    await kafka.send(this.settings.alertsTopic, alerts.map(alertRecord), signal);
    this.published.alerts = alerts.length;
    const topic = this.settings.predictionsTopic;
    if (topic === undefined) return;
    const again = (await storedPredictions(db, this.redelivered)).map(predictionRecord);
    await kafka.send(topic, [...this.predictions, ...again], signal);
    this.published.predictions = this.predictions.length + again.length;
  }

  counts() {
    const evaluation = this.quality.result();
    return {
      consumed: this.consumed,
      valid: this.valid,
      invalid: this.invalid.length,
      ...(this.invalid.length > 0 ? { invalidByReason: countByReason(this.invalid) } : {}),
      scored: this.scored,
      flagged: this.flagged,
      alerts: this.published.alerts,
      ...(this.settings.predictionsTopic === undefined ? {} : { predictions: this.published.predictions }),
      ...(evaluation.labelled > 0
        ? { quality: { model: evaluation.model, amountRule: evaluation.rule } }
        : {}),
    };
  }

  /** Scores the transactions not yet in PostgreSQL, against their accounts' history. */
  private async scoreFresh({ valid, stored, profiles }: Checked): Promise<ScoredTransaction[]> {
    const { predictor, signal } = this.deps;
    const fresh: ValidMessage[] = [];
    for (const v of valid) {
      if (stored.has(v.transaction.transactionId)) {
        this.redelivered.push(v.transaction.transactionId);
        continue;
      }
      fresh.push(v);
      // The history read for this piece, unless the run has scored the account since (the lookup of
      // piece n+1 goes out before piece n is scored; the run's own history is the newer).
      const account = v.transaction.accountId;
      const history = profiles.get(account);
      if (history && !this.profiles.has(account)) this.profiles.set(account, history);
    }
    const items = featurize(
      fresh.map((v) => v.transaction),
      this.profiles,
    );
    const predictions = await score(items, predictor, this.settings.threshold, signal);
    return fresh.map((v, i) => ({
      transaction: v.transaction,
      position: v.message,
      prediction: predictions[i] as ScoredTransaction['prediction'],
    }));
  }

  /** Keeps what the end of the run needs of a scored row: counts, its alert, its prediction message. */
  private tally({ transaction, prediction }: ScoredTransaction): void {
    this.scored++;
    this.quality.add(transaction, prediction.isFraud);
    const row = {
      transactionId: transaction.transactionId,
      accountId: transaction.accountId,
      score: prediction.score,
      reasons: prediction.reasons,
    };
    if (prediction.isFraud) {
      this.flagged++;
      this.alerts.push(row);
    }
    if (this.settings.predictionsTopic !== undefined)
      this.predictions.push(
        predictionRecord({ ...row, isFraud: prediction.isFraud, model: this.deps.predictor.name }),
      );
  }
}

function countByReason(invalid: DeadLetterInput[]): Partial<Record<DeadLetterReason, number>> {
  const counts: Partial<Record<DeadLetterReason, number>> = {};
  for (const { reason } of invalid) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

/** Keyed by transaction id: a re-sent alert has the same key, so alert consumers can deduplicate. */
function alertRecord(alert: AlertRow): OutgoingRecord {
  return { key: alert.transactionId, value: JSON.stringify(alert) };
}

/** Keyed by transaction id, like alerts: a prediction sent again replaces itself for a keyed reader. */
function predictionRecord(prediction: PredictionRow): OutgoingRecord {
  return { key: prediction.transactionId, value: JSON.stringify(prediction) };
}
