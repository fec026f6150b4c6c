import { randomInt } from 'node:crypto';
import { z } from 'zod';
import { STREAMING_DEFAULTS, streamingTopicDefaults } from '../src/kafka/streaming-topics';
import { defineJob } from './job';

/** What a run needs, loaded on its first run: a CLI that only reads the params schema skips faker. */
const runtime = () =>
  Promise.all([
    import('../src/domain/malformed'),
    import('../src/domain/random'),
    import('../src/domain/simulator'),
    import('../src/runtime/simulated-clock'),
  ]);

/** Transactions simulated at a time; a request goes out whenever a partition's batch is full. */
const PIECE = 1_000;

const share = (what: string) =>
  z
    .number()
    .min(0, `${what} is a share from 0 to 1, e.g. 0.05 for 5 %`)
    .max(1, `${what} is a share from 0 to 1, e.g. 0.05 for 5 %`);

/**
 * The transaction simulator into Kafka (the Airflow producer DAG): `count` transactions from the
 * stable account population, fraud at `fraudRate`, keyed by account id, with an idempotent producer.
 */
export const producerBatchJob = defineJob({
  name: 'producer-batch',
  description:
    'simulate `count` transactions (fraud at `fraudRate`) and produce them to Kafka, keyed by account',
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
  }),
  async run(ctx, params) {
    const started = performance.now();
    const [{ malformed }, { Random }, { Simulation }, { SimulatedClock }] = await runtime();
    const seed = params.seed ?? randomInt(2 ** 31 - 1);
    await ctx.resources.kafka.ensureTopics([streamingTopicDefaults.transactions(params.topic)]);
    const sender = await ctx.resources.kafka.batchSender(params.topic, ctx.signal);
    // Made piece by piece while the previous request is in flight: simulating and serialising take
    // about as long as the broker round trip, so they overlap instead of adding up.
    const clock = SimulatedClock.forTopic(
      ctx.resources.redis,
      ctx.resources.config.queuePrefix,
      params.topic,
    );
    const startAt = await clock.next();
    const simulation = new Simulation({ count: params.count, fraudRate: params.fraudRate, seed, startAt });
    const breakage = new Random(seed ^ 0x5bd1e995);
    let fraud = 0;
    let malformedCount = 0;
    let bytes = 0;
    while (simulation.remaining > 0) {
      for (const transaction of simulation.take(PIECE)) {
        const broken = params.malformedRate > 0 && breakage.chance(params.malformedRate);
        if (broken) malformedCount++;
        else if (transaction.label?.fraud) fraud++;
        const value = broken ? malformed(transaction, breakage) : JSON.stringify(transaction);
        bytes += Buffer.byteLength(value);
        if (sender.add(transaction.accountId, value)) await sender.send();
      }
    }
    await sender.finish();
    await clock.advanceTo(simulation.lastAt);
    return {
      produced: params.count,
      fraud,
      malformed: malformedCount,
      bytes,
      partitions: sender.written.size,
      requests: sender.requests,
      durationMs: Math.round(performance.now() - started),
      seed,
      simulatedFrom: startAt.toISOString(),
      simulatedTo: simulation.lastAt.toISOString(),
    };
  },
});
