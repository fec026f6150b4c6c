import type { KafkaMessage } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { simulate } from '../../src/domain/simulator';
import type { Transaction } from '../../src/domain/transaction';
import { TRUNCATED_VALUE_BYTES } from '../../src/kafka/dead-letter';
import { readTopic } from './read-topic';
import { drain, type StreamingEnv, streamingEnv, sum } from './streaming-env';

const header = (message: KafkaMessage, name: string) => message.headers?.[name]?.toString();

/** A transaction's JSON padded with spaces (still valid JSON) to exactly `bytes` bytes. */
function padded(transaction: Transaction, bytes: number): Buffer {
  const json = JSON.stringify(transaction);
  return Buffer.from(`${json.slice(0, -1)}${' '.repeat(bytes - json.length)}}`);
}

interface Case {
  name: string;
  /** The bad message, given the transaction it was meant to carry. */
  key(transaction: Transaction): Buffer | null;
  value(transaction: Transaction): Buffer | null;
  params?: { maxMessageBytes?: number };
  /** The whole `dlq-reason`, or a pattern for it. */
  reason(transaction: Transaction, sent: Buffer | null): string | RegExp;
  /** What the DLQ keeps of it. */
  kept(record: KafkaMessage, sent: { key: Buffer | null; value: Buffer | null }): void;
}

const keyOf = (t: Transaction) => Buffer.from(t.accountId);
const json = (value: unknown) => Buffer.from(JSON.stringify(value));

/** The original key and bytes, unchanged, and no truncation headers. */
function keptWhole(record: KafkaMessage, sent: { key: Buffer | null; value: Buffer | null }) {
  expect(record.key).toEqual(sent.key);
  expect(record.value).toEqual(sent.value);
  expect(header(record, 'dlq-truncated')).toBeUndefined();
  expect(header(record, 'dlq-original-size')).toBeUndefined();
}

const cases: Case[] = [
  {
    name: 'too_large: a 1.1 MB value, over the default maxMessageBytes and what the DLQ topic accepts',
    key: keyOf,
    value: (t) => padded(t, 1_100_000),
    reason: () => 'too_large: value is 1100000 bytes, over maxMessageBytes (1000000)',
    kept(record, sent) {
      expect(record.key).toEqual(sent.key);
      expect(record.value).toEqual(sent.value?.subarray(0, TRUNCATED_VALUE_BYTES));
      expect(header(record, 'dlq-truncated')).toBe('true');
      expect(header(record, 'dlq-original-size')).toBe('1100000');
    },
  },
  {
    name: 'too_large: a value over a configured maxMessageBytes',
    key: keyOf,
    value: (t) => padded(t, 5_000),
    params: { maxMessageBytes: 4_096 },
    reason: () => 'too_large: value is 5000 bytes, over maxMessageBytes (4096)',
    kept(record, sent) {
      expect(record.key).toEqual(sent.key);
      // Shorter than the prefix the truncated record keeps: all of it.
      expect(record.value).toEqual(sent.value);
      expect(header(record, 'dlq-truncated')).toBe('true');
      expect(header(record, 'dlq-original-size')).toBe('5000');
    },
  },
  {
    name: 'invalid_utf8: a value with a byte that is not UTF-8',
    key: keyOf,
    value: (t) => Buffer.concat([json(t).subarray(0, 30), Buffer.from([0xe9]), json(t).subarray(30)]),
    reason: () => 'invalid_utf8: value is not valid UTF-8 at byte 30',
    kept: keptWhole,
  },
  {
    name: 'empty_value: a null value',
    key: keyOf,
    value: () => null,
    reason: () => 'empty_value: value is null',
    kept: keptWhole,
  },
  {
    name: 'empty_value: a value of 0 bytes',
    key: keyOf,
    value: () => Buffer.alloc(0),
    reason: () => 'empty_value: value is empty (0 bytes)',
    kept: keptWhole,
  },
  {
    name: 'null_key: a valid transaction without a key',
    key: () => null,
    value: (t) => json(t),
    reason: (t) => `null_key: no key; transactions are keyed by account id (accountId ${t.accountId})`,
    kept: keptWhole,
  },
  {
    name: 'not_json: cut-off JSON',
    key: keyOf,
    value: (t) => json(t).subarray(0, 40),
    reason: () => /^not_json: value is not JSON: /,
    kept: keptWhole,
  },
  {
    name: 'schema: a negative amount',
    key: keyOf,
    value: (t) => json({ ...t, amount: -t.amount }),
    reason: () => 'schema: field amount: expected an amount above 0',
    kept: keptWhole,
  },
];

describe('dead letters through the real consumer against real Kafka', () => {
  let env: StreamingEnv;
  beforeEach(async () => {
    env = await streamingEnv('dl');
  });
  afterEach(async () => {
    await env.cleanup();
  });

  /**
   * The source topic, made before the job ensures it: it accepts values up to 2 MB, as a topic whose
   * producers send large values would. The DLQ topic keeps the broker default (1,048,588 bytes).
   */
  async function createSourceTopic(): Promise<void> {
    await createTopic(env.topics.transactions, 3, 2_000_000);
  }

  async function createTopic(topic: string, numPartitions: number, maxMessageBytes: number): Promise<void> {
    const admin = await env.resources.kafkajs.admin();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        {
          topic,
          numPartitions,
          replicationFactor: 1,
          configEntries: [{ name: 'max.message.bytes', value: String(maxMessageBytes) }],
        },
      ],
    });
  }

  /** Sends a valid transaction, the bad message, another valid one, all to partition 0, in order. */
  async function sendAround(bad: { key: Buffer | null; value: Buffer | null }, valid: Transaction[]) {
    const producer = await env.resources.kafkajs.producer();
    const [before, after] = valid as [Transaction, Transaction];
    await producer.send({
      topic: env.topics.transactions,
      messages: [
        { partition: 0, key: before.accountId, value: JSON.stringify(before) },
        { partition: 0, ...bad },
        { partition: 0, key: after.accountId, value: JSON.stringify(after) },
      ],
    });
  }

  /** Drains the topic and checks the partition moved past the bad message; returns its dead letter. */
  async function drainAndCheck(valid: Transaction[], params: Case['params'] = {}): Promise<KafkaMessage> {
    // Each run completes (drain rethrows a failed one): the bad message does not fail the run.
    const runs = await drain(env, { maxWait: 500, ...params });
    expect(sum(runs, 'consumed')).toBe(3);
    expect(sum(runs, 'invalid')).toBe(1);
    expect(sum(runs, 'scored')).toBe(2);
    // drain() ends on an empty caught-up run; the run that took the messages must have caught up too.
    expect(runs.find((run) => (run.consumed as number) > 0)?.lagAfter).toBe(0);

    // The group's committed offset is past all three messages.
    const admin = await env.resources.kafkajs.admin();
    const [committed] = await admin.fetchOffsets({ groupId: env.group, topics: [env.topics.transactions] });
    expect(committed?.partitions.find((p) => p.partition === 0)?.offset).toBe('3');

    // The valid messages around it are saved, once each.
    const { rows } = await env.resources.db.query<{ id: string }>(
      'select transaction_id::text as id from transactions order by 1',
    );
    expect(rows.map((row) => row.id)).toEqual(valid.map((t) => t.transactionId).sort());
    expect(await env.count('predictions')).toBe(2);

    // Exactly one dead letter.
    const [dead] = await readTopic(env.resources.kafkajs.client, env.topics.dlq, 1);
    const ends = await admin.fetchTopicOffsets(env.topics.dlq);
    expect(ends.map((p) => p.high)).toEqual(['1']);
    return dead as KafkaMessage;
  }

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await createSourceTopic();
    const [meant, ...valid] = simulate({ count: 3, fraudRate: 0, seed: 31 }) as [
      Transaction,
      ...Transaction[],
    ];
    const bad = { key: c.key(meant), value: c.value(meant) };
    await sendAround(bad, valid);

    const dead = await drainAndCheck(valid, c.params);
    const reason = c.reason(meant, bad.value);
    if (typeof reason === 'string') expect(header(dead, 'dlq-reason')).toBe(reason);
    else expect(header(dead, 'dlq-reason')).toMatch(reason);
    expect(header(dead, 'dlq-source-topic')).toBe(env.topics.transactions);
    expect(header(dead, 'dlq-source-partition')).toBe('0');
    expect(header(dead, 'dlq-source-offset')).toBe('1');
    expect(Number.isNaN(Date.parse(header(dead, 'dlq-failed-at') ?? ''))).toBe(false);
    c.kept(dead, bad);
  });

  it('sends a dead letter the DLQ topic refuses whole again truncated, and the run commits', async () => {
    await createSourceTopic();
    // A DLQ topic that takes less than the consumer expects: only the broker can say no.
    await createTopic(env.topics.dlq, 1, 100_000);
    const [meant, ...valid] = simulate({ count: 3, fraudRate: 0, seed: 37 }) as [
      Transaction,
      ...Transaction[],
    ];
    const value = Buffer.alloc(500_000, 'x');
    await sendAround({ key: Buffer.from(meant.accountId), value }, valid);

    const dead = await drainAndCheck(valid);
    expect(header(dead, 'dlq-reason')).toMatch(/^not_json: value is not JSON: /);
    expect(header(dead, 'dlq-truncated')).toBe('true');
    expect(header(dead, 'dlq-original-size')).toBe('500000');
    expect(header(dead, 'dlq-source-offset')).toBe('1');
    expect(dead.key?.toString()).toBe(meant.accountId);
    expect(dead.value).toEqual(value.subarray(0, TRUNCATED_VALUE_BYTES));
  });
});
