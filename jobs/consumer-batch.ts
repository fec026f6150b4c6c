import { z } from 'zod';
import {
  type AlertRow,
  loadProfiles,
  type ScoredTransaction,
  saveScoredBatch,
  storedAlerts,
  storedTransactionIds,
} from '../src/db/scoring-store';
import { compare } from '../src/domain/evaluation';
import { createHttpPredictor, httpPredictorOptionsSchema } from '../src/domain/http-predictor';
import { builtinPredictor } from '../src/domain/model';
import type { Predictor } from '../src/domain/predictor';
import { featurize, score } from '../src/domain/scoring';
import { parseTransaction, type Transaction, withoutLabel } from '../src/domain/transaction';
import type { ConsumedMessage } from '../src/kafka/bounded-consumer';
import { deadLetter } from '../src/kafka/dead-letter';
import { totalLag } from '../src/kafka/lag';
import { sendChunked } from '../src/kafka/send-chunked';
import { streamingTopicDefaults } from '../src/kafka/streaming-topics';
import type { Resources } from '../src/runtime/resources';
import { defineJob, type JobContext } from './job';

const paramsSchema = z.strictObject({
  topic: z.string().min(1).default('fraud-detection-transactions'),
  group: z.string().min(1).default('tickflow-consumer-batch'),
  /** At most this many messages per run. */
  batchSize: z.number().int().min(1).max(500_000).default(100),
  /** Milliseconds to wait for messages; a run with messages ends sooner once it has caught up. */
  maxWait: z.number().int().min(0).max(600_000).default(1_000),
  dlqTopic: z.string().min(1).default('fraud-detection-transactions-dlq'),
  alertsTopic: z.string().min(1).default('fraud-alerts'),
  /** Score at or above which a transaction is flagged as fraud and alerted. */
  threshold: z.number().min(0).max(1).default(0.5),
  predictor: z
    .discriminatedUnion('type', [z.strictObject({ type: z.literal('builtin') }), httpPredictorOptionsSchema])
    .default({ type: 'builtin' }),
});
type Params = z.output<typeof paramsSchema>;

interface Valid {
  transaction: Transaction;
  message: ConsumedMessage;
}

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
    const lagAfter = await totalLag(await ctx.resources.admin(), params.group, params.topic);
    return { ...counts, lagAfter, durationMs: Math.round(performance.now() - started) };
  },
});

function predictorFor(params: Params, resources: Resources): Predictor {
  const options = params.predictor;
  if (options.type === 'builtin') return builtinPredictor;
  return resources.shared(`http-predictor:${JSON.stringify(options)}`, () => createHttpPredictor(options));
}

async function processBatch(
  ctx: JobContext,
  params: Params,
  predictor: Predictor,
  messages: ConsumedMessage[],
) {
  const { valid, invalid } = validate(messages);
  const { batch, profiles, redelivered } = await scoreFresh(ctx, params, predictor, valid);
  const producer = await ctx.resources.producer();
  await sendChunked(
    producer,
    params.dlqTopic,
    invalid.map(({ message, reason }) => deadLetter(message, reason)),
  );
  ctx.log.info({ messages: messages.length, scored: batch.length }, 'writing scored batch to PostgreSQL');
  await saveScoredBatch(ctx.resources.db, batch, profiles, predictor.name);
  // Alerts of redelivered transactions go out again: the run that wrote them may have died before sending.
  const alerts = [...newAlerts(batch), ...(await storedAlerts(ctx.resources.db, redelivered))];
  await sendChunked(producer, params.alertsTopic, alerts.map(alertMessage));
  const evaluation = compare(
    batch.map((row) => row.transaction),
    batch.map((row) => row.prediction.isFraud),
  );
  return {
    consumed: messages.length,
    valid: valid.length,
    invalid: invalid.length,
    scored: batch.length,
    flagged: batch.filter((row) => row.prediction.isFraud).length,
    alerts: alerts.length,
    ...(evaluation.labelled > 0 ? { quality: { model: evaluation.model, amountRule: evaluation.rule } } : {}),
  };
}

/** Scores the transactions not yet in PostgreSQL, against their accounts' stored history. */
async function scoreFresh(ctx: JobContext, params: Params, predictor: Predictor, valid: Valid[]) {
  const db = ctx.resources.db;
  const stored = await storedTransactionIds(
    db,
    valid.map((v) => v.transaction.transactionId),
  );
  const fresh = valid.filter((v) => !stored.has(v.transaction.transactionId));
  const profiles = await loadProfiles(db, [...new Set(fresh.map((v) => v.transaction.accountId))]);
  const items = featurize(
    fresh.map((v) => withoutLabel(v.transaction)),
    profiles,
  );
  const predictions = await score(items, predictor, params.threshold, ctx.signal);
  const batch: ScoredTransaction[] = fresh.map((v, i) => ({
    transaction: v.transaction,
    position: v.message,
    prediction: predictions[i] as ScoredTransaction['prediction'],
  }));
  return { batch, profiles, redelivered: [...stored] };
}

/** Parses every message; a transaction id seen twice in one batch is kept once. */
function validate(messages: ConsumedMessage[]) {
  const valid: Valid[] = [];
  const invalid: Array<{ message: ConsumedMessage; reason: string }> = [];
  const seen = new Set<string>();
  for (const message of messages) {
    const parsed = parseTransaction(message.value);
    if (!parsed.ok) invalid.push({ message, reason: parsed.reason });
    else if (!seen.has(parsed.transaction.transactionId)) {
      seen.add(parsed.transaction.transactionId);
      valid.push({ transaction: parsed.transaction, message });
    }
  }
  return { valid, invalid };
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
