import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { consumerBatchJob } from '../../jobs/consumer-batch';
import { TRANSACTION_THREAD } from '../../src/db/transaction-connection';
import { simulate } from '../../src/domain/simulator';
import { streamingTopicDefaults } from '../../src/kafka/streaming-topics';
import { Resources } from '../../src/runtime/resources';
import { closeFakeModelApis, fakeModelApi } from '../fake-model-api';
import { sleep, waitFor } from '../support';
import { readTopic } from './read-topic';
import { committedOffsets, drain, jobContext, type StreamingEnv, streamingEnv, sum } from './streaming-env';

/**
 * Runs whose transaction is on a pooled connection of the job's thread, and on a thread of its own
 * (batchSize 20,000 or more; see jobs/consumer-batch.ts).
 */
const ON_BOTH_CONNECTIONS = [
  { connection: 'pooled connection', batchSize: 12_000 },
  { connection: 'transaction thread', batchSize: 20_000 },
];

describe('consumer-batch against real Kafka and PostgreSQL', () => {
  let env: StreamingEnv;
  beforeEach(async () => {
    env = await streamingEnv('cb');
  });
  afterEach(async () => {
    await env.cleanup();
  });

  it('writes one prediction per produced transaction, none twice, across several runs', async () => {
    const produced = await env.produce({ count: 1_200, fraudRate: 0.1, seed: 7 });
    expect(produced).toMatchObject({ produced: 1_200, malformed: 0, partitions: 3 });
    const runs = await drain(env, { batchSize: 500, maxWait: 500 });
    expect(runs[0]?.consumed).toBe(500);
    expect(sum(runs, 'consumed')).toBe(1_200);
    expect(sum(runs, 'scored')).toBe(1_200);
    expect(await env.count('predictions')).toBe(1_200);
    expect(await env.count('fraud_alerts')).toBe(sum(runs, 'flagged'));
    expect(await profileTransactionCount(env)).toBe(1_200);
    const alerts = await readTopic(env.resources.kafkajs.client, env.topics.alerts, sum(runs, 'alerts'));
    expect(new Set(alerts.map((m) => m.key?.toString())).size).toBe(sum(runs, 'flagged'));
  });

  it('sends malformed messages to the DLQ with the reason and original bytes, and keeps going', async () => {
    const produced = await env.produce({ count: 300, seed: 3, malformedRate: 0.2 });
    const malformed = produced.malformed as number;
    expect(malformed).toBeGreaterThan(20);
    const runs = await drain(env, { batchSize: 1_000, maxWait: 500 });
    expect(sum(runs, 'invalid')).toBe(malformed);
    expect(sum(runs, 'valid')).toBe(300 - malformed);
    expect(await env.count('predictions')).toBe(300 - malformed);
    expect(runs.at(-1)?.lagAfter).toBe(0);

    const dead = await readTopic(env.resources.kafkajs.client, env.topics.dlq, malformed);
    const reasons = dead.map((m) => m.headers?.['dlq-reason']?.toString() ?? '');
    expect(reasons.every((reason) => reason.length > 0)).toBe(true);
    expect(reasons.some((reason) => reason.startsWith('not_json: '))).toBe(true);
    expect(
      reasons.some((reason) => reason.startsWith('schema: field amount: expected an amount above 0')),
    ).toBe(true);
    expect(dead[0]?.headers?.['dlq-source-topic']?.toString()).toBe(env.topics.transactions);
    expect(dead.every((m) => m.key?.toString().startsWith('ACC-'))).toBe(true);
  });

  it('ends an empty run after maxWait with zero counts', async () => {
    const first = await env.consume({ maxWait: 300 });
    const second = await env.consume({ maxWait: 300 });
    for (const result of [first, second])
      expect(result).toMatchObject({
        consumed: 0,
        valid: 0,
        invalid: 0,
        scored: 0,
        flagged: 0,
        alerts: 0,
        lagAfter: 0,
      });
    expect(second.durationMs).toBeGreaterThanOrEqual(300);
    expect(second.durationMs).toBeLessThan(3_000);
  });

  it('re-reading already written messages duplicates nothing and re-sends their alerts', async () => {
    await env.produce({ count: 400, fraudRate: 0.2, seed: 11 });
    const firstPass = await drain(env, { batchSize: 1_000, maxWait: 300 });
    const alertsBefore = await env.count('fraud_alerts');
    expect(alertsBefore).toBeGreaterThan(0);
    await replayFromEarliest(env);

    const secondPass = await drain(env, { batchSize: 1_000, maxWait: 300 });
    expect(sum(secondPass, 'consumed')).toBe(400);
    expect(sum(secondPass, 'scored')).toBe(0);
    expect(sum(secondPass, 'alerts')).toBe(alertsBefore);
    expect(sum(firstPass, 'alerts')).toBe(alertsBefore);
    expect(await env.count('predictions')).toBe(400);
    expect(await profileTransactionCount(env)).toBe(400);
  });

  it('bounds the wait for a message, not the run: a busy run longer than maxWait takes its whole batch', async () => {
    await env.produce({ count: 30_000, seed: 9 });
    await env.consume({ batchSize: 1, maxWait: 1_000 }); // joined and warm, as in a worker
    // Scoring and storing 29,999 messages takes well over 300 ms; messages keep arriving all along.
    const run = await env.consume({ batchSize: 30_000, maxWait: 300 });
    expect(run.durationMs as number).toBeGreaterThan(300);
    expect(run.consumed).toBe(29_999);
  });

  it.each(
    [
      {
        what: 'a later piece fails in PostgreSQL',
        action: "raise exception 'injected failure'",
        error: /injected failure/,
      },
      // A PostgreSQL restart, as the run sees it.
      {
        what: 'its PostgreSQL connection is lost',
        action: 'perform pg_terminate_backend(pg_backend_pid())',
        error: /terminat/i,
      },
    ].flatMap((failure) => ON_BOTH_CONNECTIONS.map((run) => ({ ...failure, ...run }))),
  )(
    'commits no offsets and stores nothing when $what mid-run ($connection)',
    async ({ action, error, batchSize }) => {
      await env.produce({ count: 12_000, seed: 8 });
      // The first 5,000 prediction rows go in; the next one fails: a COPY of a later piece, queued
      // while the pieces after it were fetched and scored.
      await env.resources.db.query(`
      create sequence copied_predictions;
      create function fail_at() returns trigger language plpgsql as $$
      begin
        if nextval('copied_predictions') = 5001 then ${action}; end if;
        return new;
      end $$;
      create trigger fail_at before insert on predictions for each row execute function fail_at();`);
      await expect(env.consume({ batchSize, maxWait: 2_000 })).rejects.toThrow(error);
      expect(await committedOffsets(env)).toEqual(['-1', '-1', '-1']);
      expect(await env.count('transactions')).toBe(0);
      expect(await env.count('account_profiles')).toBe(0);

      await env.resources.db.query('drop trigger fail_at on predictions');
      const runs = await drain(env, { batchSize, maxWait: 2_000 });
      expect(sum(runs, 'scored')).toBe(12_000);
      expect(await env.count('predictions')).toBe(12_000);
      expect(await profileTransactionCount(env)).toBe(12_000);
    },
  );

  it.each(
    [
      // Another transaction holds a lock, as long as it likes, that the run waits for: in a step
      // (the COPY into predictions, after the one into transactions), or in the commit's own writes
      // (the histories still in memory: a recentAccounts above the run's 3,000 messages keeps them
      // all there; reading them stays allowed).
      { waiting: 'a COPY', lock: 'predictions in access exclusive mode' },
      {
        waiting: "the commit's history write",
        lock: 'account_profiles in exclusive mode',
        recentAccounts: 10_000,
      },
    ].flatMap((lock) => ON_BOTH_CONNECTIONS.map((run) => ({ ...lock, ...run }))),
  )(
    'an aborted run cancels $waiting waiting for a lock, rolls back and holds no connection ($connection)',
    async ({ lock, batchSize, recentAccounts }) => {
      await env.produce({ count: 3_000, seed: 12 });
      const holder = await env.resources.db.connect();
      try {
        await holder.query(`begin; lock table ${lock}`);
        const { rows } = await holder.query<{ pid: number }>('select pg_backend_pid() as pid');
        const holderPid = rows[0]?.pid as number;
        const controller = new AbortController();
        const run = consumerBatchJob.run(
          jobContext(env.resources, env, controller.signal),
          consumerBatchJob.params.parse(env.consumerParams({ batchSize, maxWait: 2_000, recentAccounts })),
        );
        run.catch(() => {});
        await waitFor(async () => (await locksOnTables(env, holderPid, false)) > 0, 'the run to wait');
        controller.abort(new Error('run timed out'));
        // Without the cancel the run would wait for the lock, which this test never lets go before.
        // (A deadline, not a wait: the sleep elapses only if the run never ends.)
        const ended = await Promise.race([
          run.then(
            () => 'stored',
            () => 'failed',
          ),
          sleep(10_000),
        ]);
        expect(ended).toBe('failed');
        // Rolled back: nothing of the run's transaction is left in PostgreSQL, and its connection is back.
        expect(await locksOnTables(env, holderPid, true)).toBe(0);
        expect(env.resources.db.totalCount - env.resources.db.idleCount).toBe(1);
      } finally {
        await holder.query('rollback');
        holder.release();
      }
      expect(await committedOffsets(env)).toEqual(['-1', '-1', '-1']);
      const runs = await drain(env, { batchSize, maxWait: 1_000 });
      expect(sum(runs, 'scored')).toBe(3_000);
      expect(await env.count('predictions')).toBe(3_000);
    },
  );

  it.each(ON_BOTH_CONNECTIONS)(
    'rolls back, commits no offsets, when an account it found without history was given one meanwhile ($connection)',
    async ({ batchSize }) => {
      await env.produce({ count: 300, seed: 41 });
      // As if another consumer (a partition handed over mid-run) created each account's row first.
      await env.resources.db.query(`
      create function another_consumer() returns trigger language plpgsql as $$
      begin
        insert into account_profiles (account_id, profile)
        values (new.account_id, '{"count":0,"meanLogAmount":0,"devices":[],"countries":[],"recent":[]}')
        on conflict do nothing;
        return new;
      end $$;
      create trigger another_consumer after insert on transactions for each row execute function another_consumer();`);
      await expect(env.consume({ batchSize, maxWait: 1_000 })).rejects.toThrow(
        'was given one by another consumer meanwhile',
      );
      expect(await committedOffsets(env)).toEqual(['-1', '-1', '-1']);
      expect(await env.count('transactions')).toBe(0);

      await env.resources.db.query('drop trigger another_consumer on transactions');
      const runs = await drain(env, { batchSize, maxWait: 300 });
      expect(sum(runs, 'scored')).toBe(300);
      expect(await profileTransactionCount(env)).toBe(300);
    },
  );

  it('publishes each prediction keyed by transaction id, and again for redelivered transactions', async () => {
    const predictionsTopic = env.topic('predictions');
    await env.produce({ count: 300, fraudRate: 0.2, seed: 13 });
    const runs = await drain(env, { predictionsTopic, maxWait: 300 });
    expect(sum(runs, 'predictions')).toBe(300);
    const published = await readTopic(env.resources.kafkajs.client, predictionsTopic, 300);
    const stored = await env.resources.db.query<{ id: string; score: number }>(
      'select transaction_id as id, score from predictions',
    );
    const scoreOf = new Map(stored.rows.map((row) => [row.id, row.score]));
    for (const message of published) {
      const prediction = JSON.parse(message.value?.toString() ?? '{}');
      expect(message.key?.toString()).toBe(prediction.transactionId);
      expect(prediction.score).toBe(scoreOf.get(prediction.transactionId));
      expect(prediction).toMatchObject({ model: 'builtin-v1', isFraud: prediction.score >= 0.5 });
    }
    expect(new Set(published.map((m) => m.key?.toString())).size).toBe(300);

    await replayFromEarliest(env);
    const again = await drain(env, { predictionsTopic, maxWait: 300 });
    expect(sum(again, 'scored')).toBe(0);
    expect(sum(again, 'predictions')).toBe(300);
    const timesSent = new Map<string, number>();
    for (const message of await readTopic(env.resources.kafkajs.client, predictionsTopic, 600)) {
      const key = message.key?.toString() ?? '';
      timesSent.set(key, (timesSent.get(key) ?? 0) + 1);
    }
    expect([...timesSent.keys()].sort()).toEqual([...scoreOf.keys()].sort());
    expect(new Set(timesSent.values())).toEqual(new Set([2]));
  });

  it('scores an account evicted from a run and met again later in it against its whole history', async () => {
    // The smallest population (5,000 accounts), ~4 transactions each; 6,700 a partition: each
    // partition comes in 2 pieces or more.
    await env.produce({ count: 20_000, fraudRate: 0.1, seed: 17, ratePerSecond: 0.2 });
    // One account in memory: nearly every account met again was evicted and is read back.
    const tiny = await drain(env, { batchSize: 20_000, maxWait: 2_000, recentAccounts: 1 });
    expect(sum(tiny, 'scored')).toBe(20_000);
    const evicting = await scoredState(env);
    expect(evicting.profiles.size).toBeLessThanOrEqual(5_000);
    expect(await profileTransactionCount(env)).toBe(20_000);

    // The same messages again, scored with every account in memory (20,000 > 5,000): the same result.
    await env.resources.db.query('truncate transactions, predictions, fraud_alerts, account_profiles');
    await replayFromEarliest(env);
    await drain(env, { batchSize: 20_000, maxWait: 2_000 });
    const inMemory = await scoredState(env);
    expect(evicting.scores).toEqual(inMemory.scores);
    expect(evicting.profiles).toEqual(inMemory.profiles);
  });

  it('keeps a transaction met twice in one run once, whether the first is still in memory or already queued', async () => {
    await env.produce({ count: 20_000, seed: 19 });
    const [first, last] = await firstAndLastMessages(env, 20_000);
    const producer = await env.resources.kafkajs.producer();
    // Each after its partition's ~6,700 (more than a piece): the first's piece is long queued for
    // COPY, the last's not yet.
    await producer.send({ topic: env.topics.transactions, messages: [first, last] });
    const run = await env.consume({ batchSize: 30_000, maxWait: 2_000 });
    expect(run).toMatchObject({ consumed: 20_002, valid: 20_000, scored: 20_000 });
    expect(await env.count('transactions')).toBe(20_000);
    expect(await profileTransactionCount(env)).toBe(20_000);
  });

  // Every account in memory: nothing waits for the first write, so every later piece is scored during
  // it, and the repeats' lookups meet their first copies waiting. One account in memory: the pieces
  // scored during it evict accounts that the next pieces read back (those the first piece evicted
  // are read from PostgreSQL once the first write is done).
  it.each([
    ['a transaction id met again', 5_000],
    ['an evicted account met again', 1],
  ])(
    'answers lookups of what a write not yet started holds from that write, while PostgreSQL is busy: %s',
    async (_, recentAccounts) => {
      // The smallest population (5,000 accounts, ~2 transactions each): accounts come again; fewer than
      // 24 pieces (PIECES_UNWRITTEN), so the pieces scored while the first write is held all wait.
      await env.produce({ count: 12_000, seed: 23, ratePerSecond: 0.2 });
      // One message from each partition's middle (not in the run's first piece), again at the end of
      // its partition, several pieces later.
      const read = await readTopic(env.resources.kafkajs.client, env.topics.transactions, 12_000);
      const middles = read.filter((m) => m.offset === '2000').map((m) => ({ key: m.key, value: m.value }));
      expect(middles).toHaveLength(3);
      const producer = await env.resources.kafkajs.producer();
      await producer.send({ topic: env.topics.transactions, messages: middles });
      // The run's first write holds the connection for 1.5 s: the pieces scored meanwhile wait in the
      // next write, which the lookups of the repeats and of evicted accounts must not miss.
      await env.resources.db.query(`
      create sequence copied_predictions;
      create function hold_first_write() returns trigger language plpgsql as $$
      begin
        if nextval('copied_predictions') = 1 then perform pg_sleep(1.5); end if;
        return new;
      end $$;
      create trigger hold_first_write before insert on predictions for each row execute function hold_first_write();`);
      const consuming = env.consume({ batchSize: 20_000, maxWait: 2_000, recentAccounts });
      consuming.catch(() => {});
      // batchSize 20,000: the run's transaction is on its thread, held in the first write.
      await waitFor(async () => {
        const { rows } = await env.resources.db.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where application_name = $1 and wait_event = 'PgSleep'",
          [TRANSACTION_THREAD],
        );
        return rows[0]?.n === 1;
      }, "the run's transaction thread held in its first write");
      const run = await consuming;
      expect(run).toMatchObject({ consumed: 12_003, valid: 12_000, scored: 12_000 });
      expect(await env.count('transactions')).toBe(12_000);
      // Every account's history counts each of its transactions once: none read back stale or missing.
      expect(await profileTransactionCount(env)).toBe(12_000);
    },
  );

  it('keeps a redelivered transaction met twice in one run once: counted once, its alert sent again once', async () => {
    await env.produce({ count: 300, fraudRate: 0.5, seed: 31 });
    const [stored] = await firstAndLastMessages(env, 300);
    await drain(env, { batchSize: 1_000, maxWait: 300 });
    const producer = await env.resources.kafkajs.producer();
    // The second copy comes ~6,700 of its partition's messages after the first, whose piece is long
    // queued by then: only the Bloom filter's lookup, which finds the stored row, meets it again.
    await producer.send({ topic: env.topics.transactions, messages: [stored] });
    await env.produce({ count: 20_000, seed: 37 });
    await producer.send({ topic: env.topics.transactions, messages: [stored] });
    const run = await env.consume({ batchSize: 30_000, maxWait: 2_000 });
    expect(run).toMatchObject({ consumed: 20_002, valid: 20_001, scored: 20_000 });
    // Its stored alert, if it was flagged, goes again once (the first run had sent it already).
    const { transactionId } = JSON.parse(String(stored.value)) as { transactionId: string };
    const { rows } = await env.resources.db.query<{ n: number }>(
      'select count(*)::int as n from fraud_alerts where transaction_id = $1',
      [transactionId],
    );
    expect(run.alerts).toBe((run.flagged as number) + (rows[0]?.n ?? 0));
  });

  it('stores text with tabs, newlines and backslashes unchanged (COPY escaping)', async () => {
    const [transaction] = simulate({ count: 1, fraudRate: 0, seed: 21 });
    const merchant = 'Tab\there \\ back\nslash\r end';
    await env.resources.kafka.ensureTopics([streamingTopicDefaults.transactions(env.topics.transactions)]);
    const producer = await env.resources.kafkajs.producer();
    await producer.send({
      topic: env.topics.transactions,
      messages: [{ key: transaction?.accountId, value: JSON.stringify({ ...transaction, merchant }) }],
    });
    await drain(env, { maxWait: 500 });
    const { rows } = await env.resources.db.query<{ merchant: string }>('select merchant from transactions');
    expect(rows).toEqual([{ merchant }]);
  });
});

/** As after a crash between the PostgreSQL commit and the offset commit: the group starts over. */
async function replayFromEarliest(env: StreamingEnv): Promise<void> {
  await env.resources.close();
  env.resources = new Resources(env.config, env.log);
  const admin = await env.resources.kafkajs.admin();
  await admin.resetOffsets({ groupId: env.group, topic: env.topics.transactions, earliest: true });
}

/** Every stored score by transaction, and every account's stored history. */
async function scoredState(env: StreamingEnv) {
  const scores = await env.resources.db.query<{ id: string; score: number }>(
    'select transaction_id as id, score from predictions order by transaction_id',
  );
  const profiles = await env.resources.db.query<{ account: string; profile: unknown }>(
    'select account_id as account, profile from account_profiles',
  );
  return {
    scores: scores.rows,
    profiles: new Map(profiles.rows.map((row) => [row.account, row.profile])),
  };
}

/** The first and last messages read (each the first or last of its partition), to send again. */
async function firstAndLastMessages(env: StreamingEnv, count: number) {
  const read = await readTopic(env.resources.kafkajs.client, env.topics.transactions, count);
  const asSent = (m: (typeof read)[number]) => ({ key: m.key, value: m.value });
  return [asSent(read[0] as (typeof read)[number]), asSent(read.at(-1) as (typeof read)[number])] as const;
}

/** Locks on this env's tables (its schema's) held or awaited by backends other than `except`. */
async function locksOnTables(env: StreamingEnv, except: number, granted: boolean): Promise<number> {
  const { rows } = await env.resources.db.query<{ n: number }>(
    // Client backends only: autovacuum may lock these tables too, at any time.
    `select count(*)::int as n from pg_locks join pg_stat_activity using (pid)
      where relation in ('transactions'::regclass, 'predictions'::regclass, 'account_profiles'::regclass)
        and backend_type = 'client backend' and pid <> $1 and granted = $2`,
    [except, granted],
  );
  return rows[0]?.n ?? 0;
}

async function profileTransactionCount(env: StreamingEnv): Promise<number> {
  const { rows } = await env.resources.db.query<{ n: number }>(
    "select coalesce(sum((profile->>'count')::int), 0)::int as n from account_profiles",
  );
  return rows[0]?.n ?? 0;
}

describe('consumer-batch with the HTTP predictor', () => {
  let env: StreamingEnv;
  beforeEach(async () => {
    env = await streamingEnv('cbh');
  });
  afterEach(async () => {
    closeFakeModelApis();
    await env.cleanup();
  });

  it('fails fast and commits nothing while the circuit is open, then recovers', async () => {
    let healthy = false;
    const api = await fakeModelApi((body) =>
      healthy
        ? {
            status: 200,
            body: {
              predictions: body.items.map((i) => ({
                transactionId: i.transaction.transactionId,
                score: 0.9,
              })),
            },
          }
        : { status: 500 },
    );
    const predictor = { type: 'http', url: api.url, retries: 0, resetTimeoutMs: 500 } as const;
    await env.produce({ count: 50, seed: 13 });
    for (let run = 0; run < 3; run++)
      await expect(env.consume({ predictor, maxWait: 300 })).rejects.toThrow('HTTP 500');
    const callsWhenOpened = api.calls.length;
    await expect(env.consume({ predictor, maxWait: 300 })).rejects.toThrow('circuit open');
    expect(api.calls).toHaveLength(callsWhenOpened);
    expect(await env.count('predictions')).toBe(0);

    healthy = true;
    // The breaker's own reset timer (resetTimeoutMs: 500) must run out before it lets a trial call
    // through: a wait on the clock of the code under test, which next to real Kafka cannot be faked.
    await sleep(600);
    const recovered = await env.consume({ predictor, maxWait: 300 });
    expect(recovered).toMatchObject({ consumed: 50, scored: 50, flagged: 50, lagAfter: 0 });
    const { rows } = await env.resources.db.query('select distinct model from predictions');
    expect(rows).toEqual([{ model: `http:${api.url}` }]);
  });
});
