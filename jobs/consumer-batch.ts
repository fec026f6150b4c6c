import { z } from 'zod';
import {
  type AlertRow,
  loadProfiles,
  type ScoredTransaction,
  ScoringWrite,
  storedAlerts,
  storedTransactionIds,
} from '../src/db/scoring-store';
import { compare } from '../src/domain/evaluation';
import { createHttpPredictor, httpPredictorOptionsSchema } from '../src/domain/http-predictor';
import { builtinPredictor } from '../src/domain/model';
import type { Predictor } from '../src/domain/predictor';
import type { AccountProfile } from '../src/domain/profile';
import { featurize, score } from '../src/domain/scoring';
import { parseTransaction, type Transaction } from '../src/domain/transaction';
import type { ConsumedMessage } from '../src/kafka/bounded-consumer';
import { type DeadLetterInput, type DeadLetterReason, sendDeadLetters } from '../src/kafka/dead-letter';
import { totalLag } from '../src/kafka/lag';
import { sendChunked } from '../src/kafka/send-chunked';
import { STREAMING_DEFAULTS, streamingTopicDefaults } from '../src/kafka/streaming-topics';
import type { Resources } from '../src/runtime/resources';
import { defineJob, type JobContext } from './job';

const paramsSchema = z.strictObject({
  topic: z.string().min(1).default(STREAMING_DEFAULTS.transactionsTopic),
  group: z.string().min(1).default(STREAMING_DEFAULTS.consumerGroup),
  /** At most this many messages per run. */
  batchSize: z.number().int().min(1).max(500_000).default(100),
  /** Milliseconds to wait for messages; a run with messages ends sooner once it has caught up. */
  maxWait: z.number().int().min(0).max(600_000).default(1_000),
  dlqTopic: z.string().min(1).default(STREAMING_DEFAULTS.deadLetterTopic),
  alertsTopic: z.string().min(1).default(STREAMING_DEFAULTS.alertsTopic),
  /** Score at or above which a transaction is flagged as fraud and alerted. */
  threshold: z.number().min(0).max(1).default(0.5),
  /**
   * A value over this many bytes is a dead letter (`too_large`), never decoded. The default, 1,000,000,
   * leaves ~48 KB under the dead-letter topic's default max.message.bytes (1,048,588) for the key, the
   * original headers, the dlq-* headers and the record framing: a bad value up to this size goes to the
   * DLQ whole. (A larger one, allowed by a larger setting, goes truncated.)
   */
  maxMessageBytes: z
    .number()
    .int()
    .min(1)
    .max(100 * 1024 * 1024)
    .default(1_000_000),
  predictor: z
    .discriminatedUnion('type', [z.strictObject({ type: z.literal('builtin') }), httpPredictorOptionsSchema])
    .default({ type: 'builtin' }),
});
type Params = z.output<typeof paramsSchema>;

interface Valid {
  transaction: Transaction;
  message: ConsumedMessage;
}

type Invalid = DeadLetterInput;

/**
 * The consumer DAG as one bounded cycle: take ≤ batchSize messages from this process's long-lived
 * group member → parse and validate (bad ones to the DLQ) → score → ONE PostgreSQL transaction →
 * alerts → commit offsets. Any failure before the end commits nothing; the next run retries.
 */
export const consumerBatchJob = defineJob({
  name: 'consumer-batch',
  description: 'consume ≤ batchSize transactions, score them, save to PostgreSQL, alert, then commit offsets',
  params: paramsSchema,
  async run(ctx, params) {
    const started = performance.now();
    await ctx.resources.ensureTopics([
      streamingTopicDefaults.transactions(params.topic),
      streamingTopicDefaults.deadLetter(params.dlqTopic),
      streamingTopicDefaults.alerts(params.alertsTopic),
    ]);
    const predictor = predictorFor(params, ctx.resources);
    const consumer = await ctx.resources.boundedConsumer(params.topic, params.group);
    const counts = await consumer.consume(
      { max: params.batchSize, maxWaitMs: params.maxWait, signal: ctx.signal },
      (messages) => processBatch(ctx, params, predictor, messages),
    );
    const lagAfter = await lagOrNull(ctx, params);
    return { ...counts, lagAfter, durationMs: Math.round(performance.now() - started) };
  },
});

/** The run's work is committed by now: failing to read the lag must not fail (and so retry) it. */
async function lagOrNull(ctx: JobContext, params: Params): Promise<number | null> {
  try {
    return await totalLag(await ctx.resources.admin(), params.group, params.topic);
  } catch (error) {
    ctx.log.warn({ err: error }, 'could not read the consumer lag after the run');
    return null;
  }
}

function predictorFor(params: Params, resources: Resources): Predictor {
  const options = params.predictor;
  if (options.type === 'builtin') return builtinPredictor;
  return resources.shared(`http-predictor:${JSON.stringify(options)}`, () => createHttpPredictor(options));
}

/**
 * Messages validated and scored at a time. Each piece's rows are queued on the run's PostgreSQL
 * transaction at once, so PostgreSQL stores one piece while the next is being scored. (Smaller pieces
 * measured slower: more queries and COPY statements per run.)
 */
const PIECE = 5_000;

async function processBatch(
  ctx: JobContext,
  params: Params,
  predictor: Predictor,
  messages: ConsumedMessage[],
) {
  const run = new ScoringRun(ctx, params, predictor);
  const invalid: Invalid[] = [];
  let valid = 0;
  const write = new ScoringWrite(ctx.resources.db, predictor.name);
  const producer = await ctx.resources.producer();
  try {
    for (let start = 0; start < messages.length && !write.failed; start += PIECE) {
      const piece = validate(messages.slice(start, start + PIECE), run.seen, params.maxMessageBytes);
      invalid.push(...piece.invalid);
      valid += piece.valid.length;
      const scored = await run.scoreFresh(piece.valid);
      if (start === 0)
        ctx.log.info(
          { messages: messages.length, piece: scored.length },
          'writing scored batch to PostgreSQL, piece by piece as it is scored',
        );
      write.add(scored);
    }
    // A failed COPY ends the run here, before anything goes to the dead-letter topic.
    if (write.failed) throw write.failed;
    // No dead letter can fail the run: one the DLQ refuses for its size goes again, truncated.
    await sendDeadLetters(producer, params.dlqTopic, invalid, { signal: ctx.signal, log: ctx.log });
    // A run past its timeout has already been reported failed: its writes must not land now.
    ctx.signal.throwIfAborted();
  } catch (error) {
    await write.rollback();
    throw error;
  }
  await write.commit(run.profiles);
  const batch = run.batch;
  // Alerts of redelivered transactions go out again: the run that wrote them may have died before sending.
  const alerts = [...newAlerts(batch), ...(await storedAlerts(ctx.resources.db, run.redelivered))];
  await sendChunked(producer, params.alertsTopic, alerts.map(alertMessage), ctx.signal);
  const evaluation = compare(
    batch.map((row) => row.transaction),
    batch.map((row) => row.prediction.isFraud),
  );
  return {
    consumed: messages.length,
    valid,
    invalid: invalid.length,
    ...(invalid.length > 0 ? { invalidByReason: countByReason(invalid) } : {}),
    scored: batch.length,
    flagged: batch.filter((row) => row.prediction.isFraud).length,
    alerts: alerts.length,
    ...(evaluation.labelled > 0 ? { quality: { model: evaluation.model, amountRule: evaluation.rule } } : {}),
  };
}

/** What one run has scored so far, piece by piece, in stream order. */
class ScoringRun {
  /** Transaction ids met in this run: one seen twice is kept once. */
  readonly seen = new Set<string>();
  readonly batch: ScoredTransaction[] = [];
  /** Already in PostgreSQL before this run: not scored again, but their alerts are re-sent. */
  readonly redelivered: string[] = [];
  /**
   * History of the accounts with a fresh transaction in this run, up to the latest one scored: what
   * commit writes back. An account with only redelivered transactions is not written back: that could
   * overwrite what the partition's new owner wrote meanwhile, with nothing here to detect it.
   */
  readonly profiles = new Map<string, AccountProfile>();
  /** Stored profiles read so far (absent: the account has no history yet). */
  private readonly stored = new Map<string, AccountProfile | undefined>();

  constructor(
    private readonly ctx: JobContext,
    private readonly params: Params,
    private readonly predictor: Predictor,
  ) {}

  /** Scores the transactions not yet in PostgreSQL, against their accounts' history. */
  async scoreFresh(valid: Valid[]): Promise<ScoredTransaction[]> {
    const db = this.ctx.resources.db;
    const unread = [...new Set(valid.map((v) => v.transaction.accountId))].filter((a) => !this.stored.has(a));
    // Both at once, on two pooled connections.
    const [stored, profiles] = await Promise.all([
      storedTransactionIds(
        db,
        valid.map((v) => v.transaction.transactionId),
      ),
      loadProfiles(db, unread),
    ]);
    for (const account of unread) this.stored.set(account, profiles.get(account));
    const fresh: Valid[] = [];
    for (const v of valid) {
      if (stored.has(v.transaction.transactionId)) {
        this.redelivered.push(v.transaction.transactionId);
        continue;
      }
      fresh.push(v);
      const account = v.transaction.accountId;
      const history = this.stored.get(account);
      if (!this.profiles.has(account) && history) this.profiles.set(account, history);
    }
    const items = featurize(
      fresh.map((v) => v.transaction),
      this.profiles,
    );
    const predictions = await score(items, this.predictor, this.params.threshold, this.ctx.signal);
    const scored: ScoredTransaction[] = fresh.map((v, i) => ({
      transaction: v.transaction,
      position: v.message,
      prediction: predictions[i] as ScoredTransaction['prediction'],
    }));
    for (const row of scored) this.batch.push(row);
    return scored;
  }
}

/**
 * Parses every message; a transaction id already in `seen` (twice in one run) is kept once. The first
 * problem found names the dead letter: a value over maxMessageBytes (not decoded), then the value
 * (empty, not UTF-8, not JSON, breaks the schema), then the key.
 *
 * A valid transaction without a key is a dead letter too (`null_key`): the contract keys a transaction
 * by its account id, so that one account's transactions stay in one partition, in order, scored and
 * profiled by one consumer at a time. An unkeyed one may land on any partition and race another
 * consumer's update of the same account's profile. The DLQ keeps it whole, to replay with its key.
 */
function validate(messages: ConsumedMessage[], seen: Set<string>, maxMessageBytes: number) {
  const valid: Valid[] = [];
  const invalid: Invalid[] = [];
  for (const message of messages) {
    const size = message.value?.length ?? 0;
    if (size > maxMessageBytes) {
      invalid.push({
        message,
        reason: 'too_large',
        detail: `value is ${size} bytes, over maxMessageBytes (${maxMessageBytes})`,
      });
      continue;
    }
    const parsed = parseTransaction(message.value);
    if (!parsed.ok) invalid.push({ message, reason: parsed.failure, detail: parsed.reason });
    else if (message.key === null || message.key.length === 0)
      invalid.push({
        message,
        reason: 'null_key',
        detail: `${message.key === null ? 'no key' : 'an empty key'}; transactions are keyed by account id (accountId ${parsed.transaction.accountId})`,
      });
    else if (!seen.has(parsed.transaction.transactionId)) {
      seen.add(parsed.transaction.transactionId);
      valid.push({ transaction: parsed.transaction, message });
    }
  }
  return { valid, invalid };
}

function countByReason(invalid: Invalid[]): Partial<Record<DeadLetterReason, number>> {
  const counts: Partial<Record<DeadLetterReason, number>> = {};
  for (const { reason } of invalid) counts[reason] = (counts[reason] ?? 0) + 1;
  return counts;
}

function newAlerts(batch: ScoredTransaction[]): AlertRow[] {
  return batch
    .filter((row) => row.prediction.isFraud)
    .map(({ transaction, prediction }) => ({
      transactionId: transaction.transactionId,
      accountId: transaction.accountId,
      score: prediction.score,
      reasons: prediction.reasons,
    }));
}

/** Keyed by transaction id: a re-sent alert has the same key, so alert consumers can deduplicate. */
function alertMessage(alert: AlertRow) {
  return { key: alert.transactionId, value: JSON.stringify(alert) };
}
