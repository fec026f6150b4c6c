import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Resources } from '../../src/runtime/resources';
import { readTopic } from './read-topic';
import { drain, type StreamingEnv, streamingEnv, sum } from './streaming-env';

/**
 * Exactly-once storage in effect against the two ways a transaction comes twice: a producer that
 * sent it twice (a later offset) and a batch redelivered after a crash between the PostgreSQL commit
 * and the Kafka commit. Each is stored once and its alert goes again (same key: readers dedupe).
 */
describe('consumer-batch: producer duplicates and redeliveries stored once', () => {
  let env: StreamingEnv;
  beforeEach(async () => {
    env = await streamingEnv('redeliver');
  });
  afterEach(async () => {
    await env.cleanup();
  });

  it('stores a producer duplicate (the same transaction id at a later offset) once, and sends its alert again', async () => {
    await env.produce({ count: 300, fraudRate: 0.5, seed: 41 });
    await drain(env, { maxWait: 300 });
    const flagged = await flaggedMessage(env);
    const producer = await env.resources.kafkajs.producer();
    await producer.send({ topic: env.topics.transactions, messages: [flagged.message] });
    await env.produce({ count: 300, fraudRate: 0.5, seed: 43 });

    const runs = await drain(env, { maxWait: 300 });
    expect(sum(runs, 'consumed')).toBe(301);
    expect(sum(runs, 'valid')).toBe(301);
    expect(sum(runs, 'scored')).toBe(300);
    // The duplicate's stored alert goes again once, keyed by its id, beside the new ones.
    expect(sum(runs, 'alerts')).toBe(sum(runs, 'flagged') + 1);
    expect(await env.count('transactions')).toBe(600);
    expect(await env.count('predictions')).toBe(600);
    expect(await profileTransactionCount(env)).toBe(600);

    // Later batches go on as before.
    await env.produce({ count: 300, seed: 47 });
    const later = await drain(env, { maxWait: 300 });
    expect(sum(later, 'scored')).toBe(300);
    expect(await profileTransactionCount(env)).toBe(900);
  });

  it('stores a batch once after a crash between its PostgreSQL commit and its Kafka commit, and sends its alerts again', async () => {
    await env.produce({ count: 300, fraudRate: 0.3, seed: 53 });
    await drain(env, { maxWait: 300 });
    const before = await groupOffsets(env);
    await env.produce({ count: 300, fraudRate: 0.3, seed: 59 });
    const stored = await drain(env, { maxWait: 300 });
    const alertsSent = sum(stored, 'alerts');
    expect(alertsSent).toBeGreaterThan(0);
    expect(alertsSent).toBe(sum(stored, 'flagged'));

    // What such a crash leaves: PostgreSQL has the rows, the group
    // its offsets from before the batch. A new process takes the batch again.
    await putGroupBack(env, before);
    const again = await drain(env, { maxWait: 300 });
    expect(sum(again, 'consumed')).toBe(300);
    expect(sum(again, 'valid')).toBe(300);
    expect(sum(again, 'scored')).toBe(0);
    expect(sum(again, 'alerts')).toBe(alertsSent);
    expect(await env.count('transactions')).toBe(600);
    expect(await env.count('predictions')).toBe(600);
    expect(await profileTransactionCount(env)).toBe(600);
    // Every alert of the batch twice on the topic (the first batch's once): same keys, readers dedupe.
    const firstBatchAlerts = (await env.count('fraud_alerts')) - alertsSent;
    const published = await readTopic(
      env.resources.kafkajs.client,
      env.topics.alerts,
      firstBatchAlerts + 2 * alertsSent,
    );
    const times = new Map<string, number>();
    for (const message of published) {
      const key = message.key?.toString() ?? '';
      times.set(key, (times.get(key) ?? 0) + 1);
    }
    expect([...times.values()].filter((n) => n === 2)).toHaveLength(alertsSent);
    expect(times.size).toBe(firstBatchAlerts + alertsSent);
  });
});

/** A message of the topic whose transaction was stored and flagged, to send again. */
async function flaggedMessage(env: StreamingEnv) {
  const { rows } = await env.resources.db.query<{ id: string }>(
    'select transaction_id as id from fraud_alerts limit 1',
  );
  const id = rows[0]?.id;
  expect(id).toBeDefined();
  const read = await readTopic(env.resources.kafkajs.client, env.topics.transactions, 300);
  const found = read.find((m) => String(m.value).includes(`"transactionId":"${id}"`));
  if (!found) throw new Error(`no message of transaction ${id} on ${env.topics.transactions}`);
  const partition = Number(
    (
      await env.resources.db.query<{ p: number }>(
        'select kafka_partition as p from transactions where transaction_id = $1',
        [id],
      )
    ).rows[0]?.p,
  );
  return { message: { key: found.key, value: found.value }, partition };
}

async function groupOffsets(env: StreamingEnv): Promise<Array<{ partition: number; offset: string }>> {
  const admin = await env.resources.kafkajs.admin();
  const [topic] = await admin.fetchOffsets({ groupId: env.group, topics: [env.topics.transactions] });
  return (topic?.partitions ?? []).map(({ partition, offset }) => ({ partition, offset }));
}

/** The group's member leaves with its process; its committed offsets are set back to `offsets`. */
async function putGroupBack(env: StreamingEnv, offsets: Array<{ partition: number; offset: string }>) {
  await env.resources.close();
  env.resources = new Resources(env.config, env.log);
  const admin = await env.resources.kafkajs.admin();
  await admin.setOffsets({ groupId: env.group, topic: env.topics.transactions, partitions: offsets });
}

async function profileTransactionCount(env: StreamingEnv): Promise<number> {
  const { rows } = await env.resources.db.query<{ n: number }>(
    "select coalesce(sum((profile->>'count')::int), 0)::int as n from account_profiles",
  );
  return rows[0]?.n ?? 0;
}
