import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consumerBatchJob } from '../../jobs/consumer-batch';
import { watermarkOf } from '../../src/db/watermarks';
import { simulate } from '../../src/domain/simulator';
import { streamingTopicDefaults } from '../../src/kafka/streaming-topics';
import { sleep, waitFor } from '../support';
import { committedOffsets, drain, jobContext, type StreamingEnv, streamingEnv } from './streaming-env';

/**
 * Runs whose transaction is on a pooled connection of the job's thread, and on a thread of its own
 * (batchSize 20,000 or more; see jobs/consumer-batch.ts): the progress goes in either one.
 */
const ON_BOTH_CONNECTIONS = [
  { connection: 'pooled connection', batchSize: 12_000 },
  { connection: 'transaction thread', batchSize: 20_000 },
];

/** The schedule streamingEnv's runs belong to (see jobContext). */
const SCHEDULE = 'test';

interface ProgressRow {
  partition: number;
  next_offset: string | null;
  newest_event_at: Date | null;
  caught_up_at: Date | null;
}

describe("a consumer schedule's event-time watermark (real Kafka and PostgreSQL)", () => {
  let env: StreamingEnv;
  beforeEach(async () => {
    env = await streamingEnv('wm');
  });
  afterEach(async () => {
    await env.cleanup();
  });

  const watermark = () =>
    watermarkOf(env.resources.db, { schedule: SCHEDULE, topic: env.topics.transactions });

  /** Sends transactions to the given partitions with these event times (one each), in order. */
  async function send(messages: Array<{ partition: number; at: Date }>): Promise<void> {
    await env.resources.kafka.ensureTopics([streamingTopicDefaults.transactions(env.topics.transactions)]);
    const transactions = simulate({
      count: messages.length,
      fraudRate: 0,
      seed: Math.floor(Math.random() * 1e9),
    });
    const producer = await env.resources.kafkajs.producer();
    await producer.send({
      topic: env.topics.transactions,
      messages: messages.map(({ partition, at }, i) => {
        const transaction = { ...transactions[i], timestamp: at.toISOString() };
        return { partition, key: transaction.accountId ?? null, value: JSON.stringify(transaction) };
      }),
    });
  }

  async function progress(): Promise<ProgressRow[]> {
    const { rows } = await env.resources.db.query<ProgressRow>(
      `select partition, next_offset::text, newest_event_at, caught_up_at from partition_progress
        where schedule = $1 and topic = $2 order by partition`,
      [SCHEDULE, env.topics.transactions],
    );
    return rows;
  }

  async function lateArrivals() {
    const { rows } = await env.resources.db.query<{ second: Date; transactions: number }>(
      'select event_second as second, transactions from late_arrivals where schedule = $1 order by event_second',
      [SCHEDULE],
    );
    return rows;
  }

  it.each(ON_BOTH_CONNECTIONS)(
    'after runs drain a topic, each partition has its committed offset and newest event, and the watermark has passed every event ($connection)',
    async ({ batchSize }) => {
      expect(await watermark()).toBeNull();
      const base = Date.now() - 60_000;
      // Partition p gets 20 + p events, 1 s apart, the last at base + p s: out of order across partitions.
      const messages = [0, 1, 2].flatMap((partition) =>
        Array.from({ length: 20 + partition }, (_, i) => ({
          partition,
          at: new Date(base + partition * 1_000 - (19 + partition - i) * 1_000 + 123),
        })),
      );
      await send(messages);
      const before = new Date();
      const runs = await drain(env, { batchSize, maxWait: 500 });
      expect(runs.reduce((sum, run) => sum + (run.scored as number), 0)).toBe(messages.length);

      const rows = await progress();
      const committed = await committedOffsets(env);
      expect(rows.map((row) => row.next_offset)).toEqual(committed);
      expect(committed).toEqual(['20', '21', '22']);
      expect(rows.map((row) => row.newest_event_at?.getTime())).toEqual(
        [0, 1, 2].map((p) => base + p * 1_000 + 123),
      );
      // Every partition was found caught up after the last event was stored: none holds it back.
      for (const row of rows) expect(row.caught_up_at?.getTime()).toBeGreaterThanOrEqual(before.getTime());
      const reaches = rows.map((row) =>
        Math.max(row.newest_event_at?.getTime() ?? 0, row.caught_up_at?.getTime() ?? 0),
      );
      const at = await watermark();
      expect(at?.getTime()).toBe(Math.min(...reaches));
      expect(at?.getTime()).toBeGreaterThanOrEqual(base + 2_000 + 123);
      expect(await lateArrivals()).toEqual([]);
    },
  );

  it('never runs ahead of the clock, however far ahead the event times are stamped', async () => {
    // Events stamped in the future (a producer whose clock is ahead, a fraud burst that runs on for
    // minutes): they cannot mean that everything up to them is stored, so each counts as its run's time.
    const ahead = Date.now() + 3_600_000;
    await send([
      { partition: 0, at: new Date(ahead + 10_000) },
      { partition: 1, at: new Date(ahead + 5_000) },
      { partition: 2, at: new Date(ahead + 20_000) },
    ]);
    await drain(env, { maxWait: 500 });
    const after = Date.now();
    const rows = await progress();
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.newest_event_at?.getTime()).toBeLessThanOrEqual(after);
    expect((await watermark())?.getTime()).toBeLessThanOrEqual(after);
  });

  it('a partition with only invalid messages records the offset its run commits, and no event time', async () => {
    await env.resources.kafka.ensureTopics([streamingTopicDefaults.transactions(env.topics.transactions)]);
    const producer = await env.resources.kafkajs.producer();
    await producer.send({
      topic: env.topics.transactions,
      messages: [
        { partition: 0, key: 'ACC-1', value: 'not json' },
        { partition: 0, key: 'ACC-1', value: '{"amount": -1}' },
      ],
    });
    const runs = await drain(env, { maxWait: 300 });
    expect(runs[0]).toMatchObject({ consumed: 2, invalid: 2, scored: 0 });
    expect(await env.count('transactions')).toBe(0);
    const [first] = await progress();
    expect(first).toMatchObject({ partition: 0, next_offset: '2', newest_event_at: null });
    expect((await committedOffsets(env))[0]).toBe('2');
  });

  it('an idle partition (no message ever) does not hold the watermark back once a run finds it caught up', async () => {
    const base = Date.now() - 120_000;
    await send([
      ...Array.from({ length: 10 }, (_, i) => ({ partition: 0, at: new Date(base + i * 1_000) })),
      ...Array.from({ length: 10 }, (_, i) => ({ partition: 1, at: new Date(base + i * 1_000) })),
    ]);
    const before = new Date();
    await drain(env, { maxWait: 500 });
    const rows = await progress();
    expect(rows).toHaveLength(3);
    const idle = rows.find((row) => row.partition === 2);
    expect(idle).toMatchObject({ next_offset: null, newest_event_at: null });
    expect(idle?.caught_up_at?.getTime()).toBeGreaterThanOrEqual(before.getTime());
    // Every partition caught up: the watermark is past every event, up to the time the last run looked.
    const at = (await watermark())?.getTime() ?? 0;
    expect(at).toBeGreaterThanOrEqual(before.getTime());
    expect(at).toBeLessThanOrEqual(Date.now());

    // A later run moves it on with the clock, though nothing came.
    const after = new Date();
    await env.consume({ maxWait: 100 });
    expect((await watermark())?.getTime()).toBeGreaterThanOrEqual(after.getTime());
  });

  it('a run that its batchSize stops before catching up keeps the watermark at the newest event stored of the lagging partition', async () => {
    const now = Date.now();
    const old = now - 600_000;
    // Partition 0: a 200-event backlog 1 s apart from ten minutes ago; partitions 1 and 2: a few recent events.
    await send([
      ...Array.from({ length: 200 }, (_, i) => ({ partition: 0, at: new Date(old + i * 1_000) })),
      ...[1, 2].flatMap((partition) =>
        Array.from({ length: 3 }, (_, i) => ({ partition, at: new Date(now - 60_000 + i * 1_000) })),
      ),
    ]);
    // Small runs, until the two small partitions are caught up (partition 0 takes many more).
    for (let run = 0; ; run++) {
      await env.consume({ batchSize: 15, maxWait: 300 });
      const lag = await env.resources.kafka.partitionLag(env.group, env.topics.transactions);
      if (lag[1]?.lag === 0 && lag[2]?.lag === 0) break;
      if (run > 10) throw new Error(`partitions 1 and 2 not caught up: ${JSON.stringify(lag)}`);
    }
    const rows = await progress();
    const lagging = rows.find((row) => row.partition === 0);
    const taken = Number(lagging?.next_offset);
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(200);
    expect((await committedOffsets(env))[0]).toBe(String(taken));
    // Offset n of partition 0 is its event old + n s: the newest stored is the last one taken.
    expect(lagging?.newest_event_at?.getTime()).toBe(old + (taken - 1) * 1_000);
    expect(lagging?.caught_up_at).toBeNull();
    const at = await watermark();
    expect(at?.getTime()).toBe(old + (taken - 1) * 1_000);

    // Drained: partition 0 caught up too, and the watermark passes its last event.
    await drain(env, { batchSize: 1_000, maxWait: 300 });
    expect((await watermark())?.getTime()).toBeGreaterThanOrEqual(old + 199 * 1_000);
  });

  it('records a transaction stored behind the watermark read at the start of its run in late_arrivals, by second', async () => {
    await send([0, 1, 2].map((partition) => ({ partition, at: new Date(Date.now() - 30_000) })));
    await drain(env, { maxWait: 300 });
    const at = (await watermark()) as Date;
    expect(at).not.toBeNull();
    // At .456 of its second, so that the second late one (100 ms later) is in the same second.
    const late = new Date(Math.floor((at.getTime() - 90_000) / 1_000) * 1_000 + 456);
    // One late (twice in the same second), one on time (after the watermark).
    await send([
      { partition: 0, at: late },
      { partition: 1, at: new Date(late.getTime() + 100) },
      { partition: 2, at: new Date(at.getTime() + 1) },
    ]);
    const storedFrom = Date.now();
    await drain(env, { maxWait: 300 });
    const second = Math.floor(late.getTime() / 1_000) * 1_000;
    const { rows } = await env.resources.db.query<{ second: Date; transactions: number; stored_at: Date }>(
      'select event_second as second, transactions, stored_at from late_arrivals where schedule = $1',
      [SCHEDULE],
    );
    expect(rows.map((row) => [row.second.getTime(), row.transactions])).toEqual([[second, 2]]);
    expect(rows[0]?.stored_at.getTime()).toBeGreaterThanOrEqual(storedFrom - 1_000);
    // The late events never move the watermark back.
    expect((await watermark())?.getTime()).toBeGreaterThanOrEqual(at.getTime());
  });

  it.each(ON_BOTH_CONNECTIONS)(
    'an aborted run records no progress and no late arrival; the run after it does ($connection)',
    async ({ batchSize }) => {
      await send([0, 1, 2].map((partition) => ({ partition, at: new Date(Date.now() - 30_000) })));
      await drain(env, { batchSize, maxWait: 300 });
      const before = await progress();
      const committedBefore = await committedOffsets(env);
      const at = (await watermark()) as Date;
      const late = new Date(at.getTime() - 60_000);
      await send([
        { partition: 0, at: late },
        { partition: 0, at: late },
      ]);

      // The run's progress statement waits for this lock (reads go on): then the run is aborted.
      const holder = await env.resources.db.connect();
      try {
        await holder.query('begin; lock table partition_progress in exclusive mode');
        const controller = new AbortController();
        const run = consumerBatchJob.run(
          jobContext(env.resources, env, controller.signal),
          consumerBatchJob.params.parse(env.consumerParams({ batchSize, maxWait: 2_000 })),
        );
        run.catch(() => {});
        await waitFor(async () => (await waitingForProgressLock(env)) > 0, 'the run to wait for the lock');
        controller.abort(new Error('run timed out'));
        // A deadline, not a wait: the sleep elapses only if the run never ends.
        const ended = await Promise.race([
          run.then(
            () => 'stored',
            () => 'failed',
          ),
          sleep(10_000).then(() => 'still waiting'),
        ]);
        expect(ended).toBe('failed');
      } finally {
        await holder.query('rollback');
        holder.release();
      }
      expect(await progress()).toEqual(before);
      expect(await lateArrivals()).toEqual([]);
      expect(await committedOffsets(env)).toEqual(committedBefore);

      await drain(env, { batchSize, maxWait: 300 });
      expect((await lateArrivals()).map((row) => row.transactions)).toEqual([2]);
      const rows = await progress();
      expect(rows[0]?.next_offset).toBe(String(Number(before[0]?.next_offset) + 2));
    },
  );
});

/** Client backends waiting for a lock on partition_progress. */
async function waitingForProgressLock(env: StreamingEnv): Promise<number> {
  const { rows } = await env.resources.db.query<{ n: number }>(
    `select count(*)::int as n from pg_locks join pg_stat_activity using (pid)
      where relation = 'partition_progress'::regclass and backend_type = 'client backend' and not granted`,
  );
  return rows[0]?.n ?? 0;
}
