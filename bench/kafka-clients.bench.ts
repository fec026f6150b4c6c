import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Kafka, Message, Producer } from 'kafkajs';
import { loadConfig } from '../src/config/config';
import { simulate } from '../src/domain/simulator';
import { createKafka } from '../src/kafka/client';
import { PartitionedSender } from '../src/kafka/partitioned-sender';
import { deleteTopics, ensureTopics } from '../src/kafka/topics';

/**
 * kafkajs against @platformatic/kafka on the same broker and the same records (issue #9): 200k
 * serialised simulator transactions keyed by account, sent as the produce requests tickflow's
 * PartitionedSender makes (idempotent, acks=all, one request in flight), then read back from the
 * 3-partition topic by a fresh group member that decodes keys and values and commits. Each client
 * runs ROUNDS times, alternating which goes first; the medians are printed with the ratio
 * platformatic/kafkajs. @platformatic/kafka is optional: without it the bench says so and measures
 * kafkajs alone. BENCH_PLATFORMATIC_FROM=<folder> loads it from another install (e.g. a folder
 * where `npm install @platformatic/kafka` was run), to try a version without touching node_modules.
 */
const MESSAGES = Number(process.env.BENCH_CLIENT_MESSAGES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_CLIENT_ROUNDS ?? 3);
const PARTITIONS = 3;
/** Requests sent (and read back) once per client before timing: connections, JIT, metadata. */
const WARM_UP_REQUESTS = 3;
/** The same fetch sizing as tickflow's BoundedConsumer, so both clients fetch alike. */
const FETCH = { maxWaitMs: 50, maxBytesPerPartition: 2 * 1024 * 1024, maxBytes: 32 * 1024 * 1024 };
const GROUP_TIMING = { sessionTimeout: 10_000, rebalanceTimeout: 15_000, heartbeatInterval: 1_000 };

/** One produce request: every partition's batch, as tickflow sends it. */
type Request = Message[];

interface ConsumeResult {
  /** Characters of every key and value decoded: must equal what was produced. */
  chars: number;
  /** From subscribing until the first message arrived (connect, join the group, first fetch). */
  joinMs: number;
  /** From the first message until all were read and their offsets committed (leaving the group not counted). */
  readMs: number;
}

interface ClientUnderTest {
  name: string;
  /**
   * Shapes the requests for this client (untimed: an adapter would build its client's shape directly)
   * and returns what sends them one after another, resolving once the broker acknowledged every one.
   */
  prepareProduce(topic: string, requests: Request[]): () => Promise<void>;
  /** Joins a new group, reads `count` messages from the start, decodes them and commits. */
  consume(topic: string, group: string, count: number): Promise<ConsumeResult>;
  createTopic(topic: string): Promise<void>;
  deleteTopics(topics: string[]): Promise<void>;
  close(): Promise<void>;
}

interface Round {
  produceMs: number;
  produceCpuMs: number;
  joinMs: number;
  consumeMs: number;
  consumeCpuMs: number;
}

const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });
const cpuUsedMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
/** Cleanup that must not hide the figures: a client that fails may also throw synchronously. */
const quietly = async (action: () => Promise<unknown>) => {
  try {
    await action();
  } catch {}
};
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

export default async function kafkaClientsBench(): Promise<void> {
  const id = `bench_clients_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const kafka = createKafka(config);
  const layoutTopic = `${id}.layout`;
  /** Each client's topics. Deleted only at the end: a kafkajs producer keeps refreshing the metadata of
   * every topic it sent to, and fails every later send once one of them is gone. */
  const topicsOf = new Map<ClientUnderTest, string[]>();
  const clients: ClientUnderTest[] = [kafkajsClient(kafka)];
  const platformatic = await loadPlatformatic();
  console.log(`node ${process.version}; ${platformatic.note}`);
  if (platformatic.module) clients.push(platformaticClient(platformatic.module, config.kafka));
  try {
    const records = simulate({ count: MESSAGES, fraudRate: 0.05, seed: 7 }).map((transaction) => ({
      key: transaction.accountId,
      value: JSON.stringify(transaction),
    }));
    const bytes = records.reduce((sum, r) => sum + Buffer.byteLength(r.key) + Buffer.byteLength(r.value), 0);
    await ensureTopics(kafka, [{ name: layoutTopic, partitions: PARTITIONS }]);
    const requests = await requestsAsTickflowSends(kafka, layoutTopic, records);
    console.log(
      `${fmt(MESSAGES)} transactions, ${fmt(bytes / 1e6, 1)} MB of keys + values, in ${requests.length} produce requests ` +
        `(tickflow's PartitionedSender batching); ${ROUNDS} rounds per client, medians`,
    );
    const results = await runRounds(clients, requests, { id, topicsOf });
    report(results, bytes);
  } finally {
    for (const [client, topics] of topicsOf) await quietly(() => client.deleteTopics(topics));
    // Whatever a failing client could not delete.
    await quietly(() => deleteTopics(kafka, [layoutTopic, ...[...topicsOf.values()].flat()]));
    for (const client of clients) await quietly(() => client.close());
  }
}

/**
 * The produce requests tickflow would make for these records: the real PartitionedSender (its
 * partitioner, batch size and message shape) sends into a producer that only records each request.
 */
async function requestsAsTickflowSends(
  kafka: Kafka,
  topic: string,
  records: { key: string; value: string }[],
): Promise<Request[]> {
  const requests: Request[] = [];
  const recorder = {
    send: async ({ messages }: { messages: Request }) => {
      requests.push(messages);
      return [];
    },
  };
  const admin = kafka.admin();
  await admin.connect();
  try {
    const sender = await PartitionedSender.open(recorder as unknown as Producer, admin, topic);
    for (const { key, value } of records) if (sender.add(key, value)) await sender.send();
    await sender.finish();
  } finally {
    await admin.disconnect();
  }
  return requests;
}

async function runRounds(
  clients: ClientUnderTest[],
  requests: Request[],
  { id, topicsOf }: { id: string; topicsOf: Map<ClientUnderTest, string[]> },
): Promise<Map<string, Round[] | Error>> {
  const results = new Map<string, Round[] | Error>(clients.map((client) => [client.name, []]));
  const warmUp = requests.slice(0, WARM_UP_REQUESTS);
  for (let round = -1; round < ROUNDS; round++) {
    // Alternate who goes first: the broker's page cache and the other client's garbage favour no one.
    const order = round % 2 === 0 ? clients : [...clients].reverse();
    for (const client of order) {
      const rounds = results.get(client.name);
      if (!Array.isArray(rounds)) continue;
      const topic = `${id}.${client.name}.${round < 0 ? 'warm-up' : round}`;
      topicsOf.set(client, [...(topicsOf.get(client) ?? []), topic]);
      try {
        const measured = await measureRound(client, topic, round < 0 ? warmUp : requests);
        if (round >= 0) rounds.push(measured);
      } catch (error) {
        results.set(client.name, error as Error);
      }
    }
  }
  return results;
}

async function measureRound(client: ClientUnderTest, topic: string, requests: Request[]): Promise<Round> {
  const messages = requests.flat();
  const expectedChars = messages.reduce((sum, m) => sum + String(m.key).length + String(m.value).length, 0);
  await client.createTopic(topic);
  const produce = client.prepareProduce(topic, requests);
  let cpu = cpuUsedMs();
  const started = performance.now();
  await produce();
  const produceMs = performance.now() - started;
  const produceCpuMs = cpuUsedMs() - cpu;
  cpu = cpuUsedMs();
  const { chars, joinMs, readMs } = await client.consume(topic, `${topic}.group`, messages.length);
  const consumeCpuMs = cpuUsedMs() - cpu;
  if (chars !== expectedChars)
    throw new Error(
      `${client.name} read back ${chars} characters of keys and values, ${expectedChars} produced`,
    );
  return { produceMs, produceCpuMs, joinMs, consumeMs: readMs, consumeCpuMs };
}

function report(results: Map<string, Round[] | Error>, bytes: number): void {
  const medians = new Map<string, Round>();
  for (const [name, rounds] of results) {
    if (rounds instanceof Error) {
      console.log(`${name.padEnd(12)} FAILED: ${rounds.message}`);
      continue;
    }
    const m = (field: keyof Round) => median(rounds.map((round) => round[field]));
    const round = {
      produceMs: m('produceMs'),
      produceCpuMs: m('produceCpuMs'),
      joinMs: m('joinMs'),
      consumeMs: m('consumeMs'),
      consumeCpuMs: m('consumeCpuMs'),
    };
    medians.set(name, round);
    console.log(
      `${name.padEnd(12)} produce ${fmt(MESSAGES / (round.produceMs / 1000))} msg/s, ` +
        `${fmt(bytes / 1e6 / (round.produceMs / 1000), 1)} MB/s, CPU ${fmt(round.produceCpuMs)} ms ` +
        `(${fmt((round.produceCpuMs * 1000) / MESSAGES, 2)} µs/msg) | consume ` +
        `${fmt(MESSAGES / (round.consumeMs / 1000))} msg/s, ${fmt(bytes / 1e6 / (round.consumeMs / 1000), 1)} MB/s, ` +
        `CPU ${fmt(round.consumeCpuMs)} ms (${fmt((round.consumeCpuMs * 1000) / MESSAGES, 2)} µs/msg), ` +
        `join + first fetch ${fmt(round.joinMs)} ms`,
    );
  }
  const base = medians.get('kafkajs');
  const other = medians.get('platformatic');
  if (!base || !other) return;
  const times = (value: number) => `${value.toFixed(2)}×`;
  console.log(
    `platformatic/kafkajs  produce msg/s ${times(base.produceMs / other.produceMs)}, ` +
      `CPU ${times(other.produceCpuMs / base.produceCpuMs)} | consume msg/s ${times(base.consumeMs / other.consumeMs)}, ` +
      `CPU ${times(other.consumeCpuMs / base.consumeCpuMs)} (throughput > 1 and CPU < 1 favour platformatic)`,
  );
}

function kafkajsClient(kafka: Kafka): ClientUnderTest {
  // As tickflow's Resources.producer() makes it.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  const connected = producer.connect();
  return {
    name: 'kafkajs',
    prepareProduce: (topic, requests) => async () => {
      await connected;
      for (const messages of requests) await producer.send({ topic, messages });
    },
    async consume(topic, group, count) {
      const consumer = kafka.consumer({
        groupId: group,
        ...GROUP_TIMING,
        maxWaitTimeInMs: FETCH.maxWaitMs,
        maxBytesPerPartition: FETCH.maxBytesPerPartition,
        maxBytes: FETCH.maxBytes,
      });
      const started = performance.now();
      const read = new ReadBack(count);
      try {
        await consumer.connect();
        await consumer.subscribe({ topic, fromBeginning: true });
        await consumer.run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            for (const message of batch.messages)
              read.add(batch.partition, BigInt(message.offset), message.key, message.value);
          },
        });
        await read.done;
        const offsets = [...read.lastOffsets].map(([partition, offset]) => ({
          topic,
          partition,
          offset: String(offset + 1n),
        }));
        await consumer.commitOffsets(offsets);
        return read.result(started);
      } finally {
        await consumer.disconnect();
      }
    },
    createTopic: async (topic) => void (await ensureTopics(kafka, [{ name: topic, partitions: PARTITIONS }])),
    deleteTopics: (topics) => deleteTopics(kafka, topics),
    close: () => producer.disconnect(),
  };
}

/** Counts and decodes what a consumer reads until `count` messages arrived. */
class ReadBack {
  chars = 0;
  firstAt?: number;
  readonly lastOffsets = new Map<number, bigint>();
  private read = 0;
  private finish!: () => void;
  readonly done = new Promise<void>((resolve) => {
    this.finish = resolve;
  });

  constructor(private readonly count: number) {}

  add(
    partition: number,
    offset: bigint,
    key: Buffer | null | undefined,
    value: Buffer | null | undefined,
  ): void {
    this.firstAt ??= performance.now();
    this.chars += (key?.toString() ?? '').length + (value?.toString() ?? '').length;
    this.lastOffsets.set(partition, offset);
    if (++this.read === this.count) this.finish();
  }

  /** Call once every offset is committed; `subscribedAt` is when the member began to join. */
  result(subscribedAt: number): ConsumeResult {
    const firstAt = this.firstAt as number;
    return { chars: this.chars, joinMs: firstAt - subscribedAt, readMs: performance.now() - firstAt };
  }
}

/** The part of @platformatic/kafka used here, typed locally so the bench type-checks without it. */
interface PlatformaticKafka {
  Producer: new (
    options: Record<string, unknown>,
  ) => {
    send(options: { messages: PlatformaticMessage[] }): Promise<unknown>;
    close(): Promise<void>;
  };
  Consumer: new (
    options: Record<string, unknown>,
  ) => {
    consume(options: Record<string, unknown>): Promise<PlatformaticStream>;
    close(force?: boolean): Promise<void>;
  };
  Admin: new (
    options: Record<string, unknown>,
  ) => {
    createTopics(options: { topics: string[]; partitions: number; replicas: number }): Promise<unknown>;
    deleteTopics(options: { topics: string[] }): Promise<void>;
    close(): Promise<void>;
  };
  stringSerializers: unknown;
}
interface PlatformaticMessage {
  topic: string;
  key: string;
  value: string;
  partition: number;
}
interface PlatformaticStream {
  on(event: 'data', listener: (message: PlatformaticReceived) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
}
interface PlatformaticReceived {
  partition: number;
  offset: bigint;
  key?: Buffer;
  value?: Buffer;
  commit(): Promise<void> | undefined;
}

/** @platformatic/kafka from node_modules or BENCH_PLATFORMATIC_FROM, or why it is not measured. */
async function loadPlatformatic(): Promise<{ module?: PlatformaticKafka; note: string }> {
  const from = process.env.BENCH_PLATFORMATIC_FROM ?? import.meta.dirname;
  let entry: string;
  try {
    entry = createRequire(path.join(path.resolve(from), 'noop.js')).resolve('@platformatic/kafka');
  } catch {
    return {
      note:
        `@platformatic/kafka is not installed (from ${from}): measuring kafkajs alone. Install it with ` +
        '`npm install` (it is a devDependency) or point BENCH_PLATFORMATIC_FROM at a folder that has it.',
    };
  }
  const packageJson = path.join(path.dirname(entry), '..', 'package.json');
  const { version, engines } = createRequire(import.meta.url)(packageJson) as {
    version: string;
    engines?: { node?: string };
  };
  const module = (await import(pathToFileURL(entry).href)) as PlatformaticKafka;
  return { module, note: `@platformatic/kafka ${version} (declares node ${engines?.node ?? 'any'})` };
}

function platformaticClient(
  kafka: PlatformaticKafka,
  { brokers, clientId }: { brokers: string[]; clientId: string },
): ClientUnderTest {
  const base = { clientId, bootstrapBrokers: brokers };
  const producer = new kafka.Producer({
    ...base,
    idempotent: true,
    acks: -1, // ProduceAcks.ALL
    serializers: kafka.stringSerializers,
  });
  const admin = new kafka.Admin(base);
  return {
    name: 'platformatic',
    prepareProduce(topic, requests) {
      const shaped = requests.map((request) =>
        request.map((m) => ({
          topic,
          key: String(m.key),
          value: String(m.value),
          partition: m.partition ?? 0,
        })),
      );
      return async () => {
        for (const messages of shaped) await producer.send({ messages });
      };
    },
    async consume(topic, group, count) {
      const consumer = new kafka.Consumer({
        ...base,
        groupId: group,
        maxWaitTime: FETCH.maxWaitMs,
        maxBytesPerPartition: FETCH.maxBytesPerPartition,
        maxBytes: FETCH.maxBytes,
      });
      const started = performance.now();
      const read = new ReadBack(count);
      const last = new Map<number, PlatformaticReceived>();
      try {
        const stream = await consumer.consume({
          topics: [topic],
          mode: 'earliest',
          autocommit: false,
          ...GROUP_TIMING,
        });
        const failed = new Promise<never>((_, reject) => stream.on('error', reject));
        stream.on('data', (message) => {
          last.set(message.partition, message);
          read.add(message.partition, message.offset, message.key, message.value);
        });
        await Promise.race([read.done, failed]);
        await Promise.all([...last.values()].map((message) => message.commit()));
        return read.result(started);
      } finally {
        await consumer.close(true);
      }
    },
    createTopic: async (topic) =>
      void (await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 })),
    deleteTopics: (topics) => admin.deleteTopics({ topics }),
    close: async () => {
      await producer.close();
      await admin.close();
    },
  };
}
