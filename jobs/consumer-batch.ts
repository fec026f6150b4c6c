import { z } from 'zod';
import { scoreAndStore } from '../src/consumer/scoring-pipeline';
import { onThread, pooled } from '../src/db/transaction-connection';
import { recordCaughtUp, watermarkOf } from '../src/db/watermarks';
import { createHttpPredictor, httpPredictorOptionsSchema } from '../src/domain/http-predictor';
import { builtinPredictor } from '../src/domain/model';
import type { Predictor } from '../src/domain/predictor';
import type { PartitionLag } from '../src/kafka/stream-client';
import { STREAMING_DEFAULTS, streamingTopicDefaults } from '../src/kafka/streaming-topics';
import { FreshnessProbe } from '../src/metrics/freshness';
import { defineJob, type JobContext } from '../src/runtime/job';

const paramsSchema = z.strictObject({
  topic: z.string().min(1).default(STREAMING_DEFAULTS.transactionsTopic),
  group: z.string().min(1).default(STREAMING_DEFAULTS.consumerGroup),
  /** At most this many messages per run. */
  batchSize: z.number().int().min(1).max(500_000).default(100),
  /** Milliseconds to wait for messages; a run with messages ends sooner once it has caught up. */
  maxWait: z.number().int().min(0).max(600_000).default(1_000),
  dlqTopic: z.string().min(1).default(STREAMING_DEFAULTS.deadLetterTopic),
  alertsTopic: z.string().min(1).default(STREAMING_DEFAULTS.alertsTopic),
  /** Publish every prediction (score, reasons, model) here, keyed by transaction id; off when left out. */
  predictionsTopic: z.string().min(1).optional(),
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
  /**
   * Accounts whose history a run keeps in memory, the most recently scored: the others are written
   * into the run's PostgreSQL transaction as it goes and read back if they come again. A run meets
   * nearly one account per message, so this bounds its memory whatever its batchSize.
   */
  recentAccounts: z.number().int().min(1).max(1_000_000).default(5_000),
  predictor: z
    .discriminatedUnion('type', [z.strictObject({ type: z.literal('builtin') }), httpPredictorOptionsSchema])
    .default({ type: 'builtin' }),
});
type Params = z.output<typeof paramsSchema>;

/**
 * Messages validated, scored and queued for PostgreSQL at a time: a run holds a few pieces, whatever
 * its batchSize. Small enough that a piece's objects mostly die young: at 5,000 they outlived the
 * young generation's collections, and V8 lets old-generation garbage grow to ~4× the live heap
 * before collecting it (200,000-message run: peak RSS ~318 MB at 5,000, ~265 MB at 1,000, the same
 * throughput within noise).
 */
const PIECE = 1_000;
/**
 * Runs of at least this many messages hold their PostgreSQL transaction on a thread of its own (see
 * onThread): PostgreSQL then never waits for this thread to finish scoring a piece before it gets
 * more COPY data or its next statement (200,000-message run, median of 3: 0.54× the COPY-alone
 * reference, against 0.42× on this thread). A thread takes ~70 ms to start, load pg and connect
 * (while the first pieces are scored), more than a small run gains.
 */
const TRANSACTION_THREAD_MIN = 20_000;

/**
 * The consumer DAG as one bounded cycle: take ≤ batchSize messages from this process's long-lived
 * group member, piece by piece → validate (bad ones to the DLQ) → score → ONE PostgreSQL transaction
 * (with the run's progress: offsets, newest event times, late arrivals; see db/watermarks.ts) →
 * alerts and predictions → commit offsets → the partitions caught up. Any failure before the end
 * commits nothing; the next run retries.
 */
export const consumerBatchJob = defineJob({
  name: 'consumer-batch',
  description: 'consume ≤ batchSize transactions, score them, save to PostgreSQL, alert, then commit offsets',
  params: paramsSchema,
  messageCounts: ['consumed', 'valid', 'invalid', 'scored', 'flagged', 'alerts'],
  // How much a run takes, never where from or where to (topics, group, predictor URL).
  overridable: ['batchSize', 'maxWait'],
  recordsWatermark: true,
  async run(ctx, params) {
    const started = performance.now();
    const { kafka } = ctx;
    const stream = { schedule: ctx.schedule, topic: params.topic };
    // Read once, before the run's transaction: what it stores with an earlier event time is late.
    const [watermark] = await Promise.all([
      watermarkOf(ctx.db, stream),
      kafka.ensureTopics(topicsOf(params)),
    ]);
    const consumer = await kafka.runConsumer(params.topic, params.group);
    const freshness = new FreshnessProbe();
    const take = { max: params.batchSize, maxWaitMs: params.maxWait, signal: ctx.signal, pieceSize: PIECE };
    const deps = {
      db: ctx.db,
      transaction: async () =>
        params.batchSize >= TRANSACTION_THREAD_MIN ? onThread(ctx.db) : pooled(ctx.db),
      kafka,
      predictor: predictorFor(ctx, params),
      log: ctx.log,
      signal: ctx.signal,
      freshness,
    };
    const settings = { ...params, schedule: ctx.schedule, watermark };
    const counts = await consumer.consume(take, (pieces) => scoreAndStore(pieces, deps, settings));
    const lagAfter = await lagAfterRun(ctx, params);
    const fresh = freshness.summary();
    return {
      ...counts,
      lagAfter,
      durationMs: Math.round(performance.now() - started),
      ...(fresh ? { freshness: fresh } : {}),
    };
  },
});

function topicsOf(params: Params) {
  return [
    streamingTopicDefaults.transactions(params.topic),
    streamingTopicDefaults.deadLetter(params.dlqTopic),
    streamingTopicDefaults.alerts(params.alertsTopic),
    ...(params.predictionsTopic ? [streamingTopicDefaults.predictions(params.predictionsTopic)] : []),
  ];
}

/**
 * The group's lag over the topic after the run, and the partitions it has nothing left to read of
 * (whoever owns them): recorded as caught up at the time just before the offsets were read, so an
 * idle partition does not hold the watermark back. The run's work is committed by now: failing to
 * read the lag or record it must not fail (and so retry) it.
 */
async function lagAfterRun(ctx: JobContext, params: Params): Promise<number | null> {
  let partitions: PartitionLag[];
  const at = new Date();
  try {
    partitions = await ctx.kafka.partitionLag(params.group, params.topic);
  } catch (error) {
    ctx.log.warn({ err: error }, 'could not read the consumer lag after the run');
    return null;
  }
  const caughtUp = partitions.filter((p) => p.lag <= 0).map((p) => p.partition);
  await recordCaughtUp(ctx.db, { schedule: ctx.schedule, topic: params.topic }, caughtUp, at).catch(
    (error: unknown) =>
      ctx.log.warn({ err: error }, 'could not record the partitions caught up after the run'),
  );
  return partitions.reduce((sum, p) => sum + p.lag, 0);
}

function predictorFor(ctx: JobContext, params: Params): Predictor {
  const options = params.predictor;
  if (options.type === 'builtin') return builtinPredictor;
  return ctx.shared(`http-predictor:${JSON.stringify(options)}`, () => createHttpPredictor(options));
}
