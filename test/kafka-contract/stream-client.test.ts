import type { IHeaders, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KafkaClientName, kafkaClients, loadConfig } from '../../src/config/config';
import { createKafka } from '../../src/kafka/client';
import { type ClosableStreamClient, createStreamClient } from '../../src/kafka/create-stream-client';
import { TRUNCATED_VALUE_BYTES } from '../../src/kafka/dead-letter';
import { keyPartition } from '../../src/kafka/partitioner';
import type { ConsumedMessage, DeadLetterInput, TakeOptions } from '../../src/kafka/stream-client';
import { deleteTopics } from '../../src/kafka/topics';
import { createLogger } from '../../src/log/logger';
import { uniqueId } from '../support';

/**
 * The StreamClient contract, the same tests for every implementation (KAFKA_CLIENT): what a job may
 * rely on whichever client runs it. Records are read back with a separate kafkajs reader and
 * partitions checked against the shared partitioner, so both clients are held to one oracle.
 */

interface Read {
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
}

/** Reads `count` records from the start of a topic with a throwaway group, with their partitions. */
async function readBack(kafka: Kafka, topic: string, count: number): Promise<Read[]> {
  const consumer = kafka.consumer({ groupId: uniqueId('reader'), maxWaitTimeInMs: 100 });
  const read: Read[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${read.length}/${count} from ${topic}`)), 30_000);
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          read.push({
            partition,
            offset: message.offset,
            key: message.key?.toString() ?? null,
            value: message.value,
            headers: message.headers ?? {},
          });
          if (read.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    return read;
  } finally {
    await consumer.disconnect();
  }
}

/** The records of each partition, in the order given. */
function byPartition<T extends { partition: number }>(records: T[]): T[][] {
  const groups = new Map<number, T[]>();
  for (const record of records)
    groups.set(record.partition, [...(groups.get(record.partition) ?? []), record]);
  return [...groups.values()];
}

/** Every piece of one bounded run, or the error its work threw. */
async function takeRun(
  client: ClosableStreamClient,
  topic: string,
  group: string,
  options: Partial<TakeOptions>,
  work: (pieces: ConsumedMessage[][]) => void = () => {},
): Promise<ConsumedMessage[][]> {
  const consumer = await client.runConsumer(topic, group);
  return consumer.consume(
    { max: 1_000, maxWaitMs: 3_000, pieceSize: 100, signal: new AbortController().signal, ...options },
    async (pieces) => {
      const taken: ConsumedMessage[][] = [];
      for await (const piece of pieces) taken.push(piece);
      work(taken);
      return taken;
    },
  );
}

const keyOf = (n: number) => `acc-${String(n * 7919).padStart(7, '0')}`;
const records = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({ key: keyOf(from + i), value: `{"n":${from + i}}` }));

describe.each(kafkaClients)('StreamClient on %s', (name: KafkaClientName) => {
  const id = uniqueId(`contract_${name}`);
  const config = loadConfig({ ...process.env, KAFKA_CLIENT: name });
  const log = createLogger(process.env.LOG_LEVEL === undefined ? 'warn' : config.logLevel, id);
  const kafka = createKafka(config);
  const topics: string[] = [];
  let client: ClosableStreamClient;
  /** A new 3-partition topic (1 for a DLQ), created through the client under test. */
  const topic = async (label: string, partitions = 3) => {
    const name = `${id}.${label}`;
    topics.push(name);
    await client.ensureTopics([{ name, partitions, retentionMs: 3_600_000 }]);
    return name;
  };

  beforeAll(() => {
    client = createStreamClient(config, log);
  });

  afterAll(async () => {
    await client.close();
    await deleteTopics(kafka, topics).catch(() => {});
  });

  it('ensureTopics creates a missing topic with its partitions and retention, and leaves it alone after', async () => {
    const name = await topic('ensured', 4);
    await client.ensureTopics([{ name, partitions: 9 }]);
    const admin = kafka.admin();
    await admin.connect();
    try {
      const {
        topics: [metadata],
      } = await admin.fetchTopicMetadata({ topics: [name] });
      expect(metadata?.partitions).toHaveLength(4);
      const { resources } = await admin.describeConfigs({
        resources: [{ type: 2, name, configNames: ['retention.ms'] }],
        includeSynonyms: false,
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('3600000');
    } finally {
      await admin.disconnect();
    }
  });

  it("send writes every record, keyed ones on the shared partitioner's partition, headers as sent", async () => {
    const name = await topic('send');
    // ~3 MB: several requests, some in flight together.
    const keyed = records(6_000).map((record) => ({ ...record, value: record.value.padEnd(500, ' ') }));
    const written = await client.send(name, [
      ...keyed,
      { key: null, value: 'no key', headers: { trace: 'abc', bytes: Buffer.from([0, 255]) } },
    ]);
    const read = await readBack(kafka, name, keyed.length + 1);
    expect(written).toEqual(new Set([0, 1, 2]));
    for (const record of read.filter((r) => r.key !== null))
      expect(record.partition, record.key as string).toBe(keyPartition(record.key as string, 3));
    // No order across requests: `send` keeps several in flight, and with kafkajs they can land in
    // either order (the batch sender is the one that keeps order, below).
    expect(new Set(read.map((r) => r.key)).size).toBe(keyed.length + 1);
    const unkeyed = read.find((r) => r.key === null);
    expect(unkeyed?.value?.toString()).toBe('no key');
    expect(unkeyed?.headers.trace?.toString()).toBe('abc');
    expect(unkeyed?.headers.bytes).toEqual(Buffer.from([0, 255]));
  });

  it('the batch sender packs a keyed stream into near-full requests, in order per partition', async () => {
    const name = await topic('batch');
    const sender = await client.batchSender(name);
    const sent = records(20_000).map((record) => ({ ...record, value: record.value.padEnd(200, ' ') }));
    for (const { key, value } of sent) if (sender.add(key, value)) await sender.send();
    await sender.finish();
    // ~4.4 MB in batches of ≤ 512 kB per partition: a handful of requests, not one per record.
    expect(sender.requests).toBeGreaterThanOrEqual(3);
    expect(sender.requests).toBeLessThan(12);
    expect(sender.written).toEqual(new Set([0, 1, 2]));
    const read = await readBack(kafka, name, sent.length);
    for (const record of read) expect(record.partition).toBe(keyPartition(record.key as string, 3));
    for (const partition of byPartition(read)) {
      const numbers = partition.map((r) => JSON.parse(String(r.value)).n as number);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    }
  });

  it('sendDeadLetters sends whole what fits (repeated headers kept) and smaller what the topic refuses', async () => {
    const name = `${id}.dlq`;
    topics.push(name);
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: name, numPartitions: 1, configEntries: [{ name: 'max.message.bytes', value: '20000' }] },
      ],
    });
    await admin.disconnect();
    const source = (offset: number, value: Buffer, headers: ConsumedMessage['headers'] = {}) => ({
      topic: 'source',
      partition: 2,
      offset: String(offset),
      key: Buffer.from(keyOf(offset)),
      value,
      headers,
    });
    const inputs: DeadLetterInput[] = [
      {
        message: source(7, Buffer.from('{"broken"'), { hop: ['a', 'b'], 'dlq-reason': 'old' }),
        reason: 'not_json',
        detail: 'Unexpected end of JSON input',
      },
      // Over the DLQ's 20 kB: refused whole, then truncated (64 kB kept) is refused too: minimal.
      {
        message: source(8, Buffer.alloc(100_000, 0x41)),
        reason: 'schema',
        detail: 'amount: expected a number',
      },
    ];
    const forms = await client.sendDeadLetters(name, inputs, { failedAt: new Date('2026-01-02T03:04:05Z') });
    expect(forms).toEqual({ whole: 1, truncated: 0, minimal: 1 });
    const read = await readBack(kafka, name, 2);
    const [whole, minimal] = [...read].sort((a, b) => Number(a.offset) - Number(b.offset));
    expect(whole?.value?.toString()).toBe('{"broken"');
    expect(whole?.headers.hop).toEqual([Buffer.from('a'), Buffer.from('b')]);
    expect(whole?.headers['dlq-reason']?.toString()).toBe('not_json: Unexpected end of JSON input');
    expect(whole?.headers['dlq-source-offset']?.toString()).toBe('7');
    expect(whole?.headers['dlq-failed-at']?.toString()).toBe('2026-01-02T03:04:05.000Z');
    expect(minimal?.value?.length).toBeLessThan(TRUNCATED_VALUE_BYTES);
    expect(minimal?.headers['dlq-original-size']?.toString()).toBe('100000');
    expect(minimal?.headers['dlq-dropped']?.toString()).toBe('original headers');
  });

  it('a bounded run takes at most max, in pieces, commits them, and the next run goes on from there', async () => {
    const name = await topic('runs');
    const group = `${name}.group`;
    await client.send(name, records(250));
    const first = await takeRun(client, name, group, { max: 100, pieceSize: 30 });
    expect(first.flat()).toHaveLength(100);
    expect(Math.max(...first.map((piece) => piece.length))).toBeLessThanOrEqual(30);
    expect(first.at(0)?.[0]?.value?.toString()).toMatch(/^\{"n":\d+\}$/);
    const lag = await client.partitionLag(group, name);
    expect(lag.reduce((sum, p) => sum + p.lag, 0)).toBe(150);
    expect(lag.map((p) => p.end).reduce((a, b) => a + b)).toBe(250);
    const rest = await takeRun(client, name, group, { max: 1_000 });
    const all = [...first.flat(), ...rest.flat()];
    expect(new Set(all.map((m) => `${m.partition}:${m.offset}`)).size).toBe(250);
    for (const partition of byPartition(all)) {
      const offsets = partition.map((m) => Number(m.offset));
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    expect((await client.partitionLag(group, name)).every((p) => p.lag === 0)).toBe(true);
  });

  it('a run ends at once when caught up, and an empty run after maxWaitMs', async () => {
    const name = await topic('caught-up');
    const group = `${name}.group`;
    await client.send(name, records(30));
    let started = performance.now();
    const run = await takeRun(client, name, group, { max: 10_000, maxWaitMs: 20_000 });
    expect(run.flat()).toHaveLength(30);
    // Caught up: far sooner than the 20 s a run waits for messages that stop coming.
    expect(performance.now() - started).toBeLessThan(10_000);
    started = performance.now();
    const empty = await takeRun(client, name, group, { maxWaitMs: 500 });
    expect(empty.flat()).toHaveLength(0);
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
  });

  it('a partition with a backlog does not crowd the others out of a small run; the rest comes later', async () => {
    const name = await topic('share');
    const group = `${name}.group`;
    const onPartition = (partition: number, count: number) =>
      records(5_000)
        .filter((record) => keyPartition(record.key, 3) === partition)
        .slice(0, count);
    await client.send(name, [...onPartition(0, 200), ...onPartition(1, 3), ...onPartition(2, 3)]);
    const first = (await takeRun(client, name, group, { max: 15 })).flat();
    expect(new Set(first.map((m) => m.partition))).toEqual(new Set([0, 1, 2]));
    let taken = first.length;
    for (let run = 0; taken < 206 && run < 50; run++)
      taken += (await takeRun(client, name, group, { max: 100 })).flat().length;
    expect(taken).toBe(206);
    expect((await client.partitionLag(group, name)).every((p) => p.lag === 0)).toBe(true);
  });

  it('a failed run commits nothing and the next run gets the same messages again', async () => {
    const name = await topic('redelivery');
    const group = `${name}.group`;
    await client.send(name, records(120));
    const failing = takeRun(client, name, group, { max: 80 }, () => {
      throw new Error('PostgreSQL went away');
    });
    await expect(failing).rejects.toThrow('PostgreSQL went away');
    expect((await client.partitionLag(group, name)).every((p) => p.committed === -1 && p.lag === p.end)).toBe(
      true,
    );
    const again = await takeRun(client, name, group, { max: 1_000 });
    expect(again.flat()).toHaveLength(120);
    // Returning before reading every piece is a failure too: nothing committed, all of it comes again.
    await client.send(name, records(10, 120));
    const consumer = await client.runConsumer(name, group);
    const partial = consumer.consume(
      { max: 1_000, maxWaitMs: 3_000, pieceSize: 1, signal: new AbortController().signal },
      async (pieces) => {
        for await (const _ of pieces) return 'first piece only';
      },
    );
    await expect(partial).rejects.toThrow('before reading every piece');
    const rest = await takeRun(client, name, group, { max: 1_000 });
    expect(
      rest
        .flat()
        .map((m) => m.key?.toString())
        .sort(),
    ).toEqual(
      records(10, 120)
        .map((r) => r.key)
        .sort(),
    );
  });

  it('partitionLag counts from the earliest before any commit, and an aborted run ends', async () => {
    const name = await topic('lag');
    const group = `${name}.group`;
    await client.send(name, records(40));
    const before = await client.partitionLag(group, name);
    expect(before.map((p) => p.partition)).toEqual([0, 1, 2]);
    expect(before.every((p) => p.committed === -1)).toBe(true);
    expect(before.reduce((sum, p) => sum + p.lag, 0)).toBe(40);
    const abort = new AbortController();
    abort.abort();
    await expect(takeRun(client, name, group, { signal: abort.signal })).rejects.toThrow();
    expect((await takeRun(client, name, group, {})).flat()).toHaveLength(40);
    // Nothing more comes: only the abort ends this run before its minute is up.
    const controller = new AbortController();
    const started = performance.now();
    const waiting = takeRun(client, name, group, { maxWaitMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 300);
    expect((await waiting).flat()).toHaveLength(0);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect((await client.partitionLag(group, name)).reduce((sum, p) => sum + p.lag, 0)).toBe(0);
  });
});
