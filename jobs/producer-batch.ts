import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { STREAMING_DEFAULTS, streamingTopicDefaults } from '../src/kafka/streaming-topics';
import { bodyOf } from '../src/producer/record-piece';
import type { RecordTally } from '../src/producer/records';
import { defineJob, type RunWindow } from '../src/runtime/job';

/** Loaded on a run's first use: a CLI that only reads the params schema skips the simulator. */
const loadRecordStream = () => import('../src/producer/record-stream');

const share = (what: string) =>
  z
    .number()
    .min(0, `${what} is a share from 0 to 1, e.g. 0.05 for 5 %`)
    .max(1, `${what} is a share from 0 to 1, e.g. 0.05 for 5 %`);

/**
 * The transaction simulator into Kafka (the Airflow producer DAG): `count` transactions from the
 * stable account population, fraud at `fraudRate`, keyed by account id, with an idempotent producer.
 * Event time is the run's window (its slot; a catch-up or backfill run's own window), never past the
 * wall clock. The population is sized for `ratePerSecond`, so each account keeps a person's pace.
 */
export const producerBatchJob = defineJob({
  name: 'producer-batch',
  description:
    'simulate `count` transactions (fraud at `fraudRate`) and produce them to Kafka, keyed by account',
  messageCounts: ['produced', 'fraud', 'malformed'],
  // How many and which transactions, never where to (topic).
  overridable: ['count', 'seed', 'fraudRate'],
  params: z.strictObject({
    topic: z.string().min(1).default(STREAMING_DEFAULTS.transactionsTopic),
    count: z.number().int().min(1).max(1_000_000).default(50),
    fraudRate: share('fraudRate').default(0.05),
    /** Same seed, same transactions (ids included). Leave it out so each run makes new ones. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .optional(),
    /** Share of deliberately broken messages, to exercise the dead-letter path. */
    malformedRate: share('malformedRate').default(0),
    /**
     * The rate the schedule produces at (count ÷ interval; 200 for 200 every second). It sizes the
     * population (~20,000 accounts per transaction a second: each account transacts ~4 times a
     * day), and gives a run without a window of its own (no cadence) count ÷ ratePerSecond seconds.
     */
    ratePerSecond: z
      .number()
      .positive('ratePerSecond is count ÷ the schedule interval in seconds, e.g. 200 for 200 every 1s')
      .max(100_000, 'ratePerSecond above 100,000 would need more than 2 billion accounts')
      .default(200),
  }),
  async run(ctx, params) {
    const started = performance.now();
    const { recordStream } = await loadRecordStream();
    const seed = params.seed ?? randomInt(2 ** 31 - 1);
    await ctx.kafka.ensureTopics([streamingTopicDefaults.transactions(params.topic)]);
    const sender = await ctx.kafka.batchSender(params.topic, ctx.signal);
    const window = eventWindow(ctx.window, params.count, params.ratePerSecond);
    const records = recordStream({
      count: params.count,
      fraudRate: params.fraudRate,
      seed,
      window: { from: window.from.getTime(), to: window.to.getTime() },
      ratePerSecond: params.ratePerSecond,
      malformedRate: params.malformedRate,
    });
    // A request is in flight while the next one's records are made and added.
    let produced = 0;
    for await (const piece of records) {
      // A run past its timeout stops here, and its thread with it, not at the next full batch.
      ctx.signal.throwIfAborted();
      for (let i = 0; i < piece.keys.length; i++)
        if (sender.add(piece.keys[i] as string, bodyOf(piece, i))) await sender.send();
      produced += piece.keys.length;
    }
    await sender.finish();
    const tally = records.tally as RecordTally;
    return {
      produced,
      fraud: tally.fraud,
      malformed: tally.malformed,
      bytes: tally.bytes,
      partitions: sender.written.size,
      requests: sender.requests,
      durationMs: Math.round(performance.now() - started),
      seed,
      accounts: tally.accounts,
      simulatedFrom: window.from.toISOString(),
      simulatedTo: window.to.toISOString(),
    };
  },
});

/**
 * The stretch of event time a run stamps: its window, cut at the wall clock so that no event is in
 * the future. Consecutive slots make consecutive stretches, so each account keeps its pace. A run
 * whose window has no span (a schedule without a cadence) takes count ÷ ratePerSecond seconds
 * ending now.
 */
export function eventWindow(
  window: RunWindow,
  count: number,
  ratePerSecond: number,
  now = Date.now(),
): RunWindow {
  const to = Math.min(window.to.getTime(), now);
  const from = window.from.getTime() < to ? window.from.getTime() : to - (1000 * count) / ratePerSecond;
  return { from: new Date(from), to: new Date(to) };
}
