import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { type KafkaClientName, kafkaClients, loadConfig } from '../src/config/config';
import { simulate } from '../src/domain/simulator';
import { createKafka } from '../src/kafka/client';
import { type ClosableStreamClient, createStreamClient } from '../src/kafka/create-stream-client';
import { deleteTopics } from '../src/kafka/topics';
import { createLogger } from '../src/log/logger';

/**
 * The two StreamClient implementations (KAFKA_CLIENT=kafkajs|platformatic) on the same broker and the
 * same records, through tickflow's own code paths: 200k serialised simulator transactions keyed by
 * account (UTF-8 values, as producer-batch makes them) sent with the client's batch sender (idempotent, acks=all, one request in flight, the
 * shared partitioner), then read back from the 3-partition topic by a new group member in bounded
 * runs (as consumer-batch takes them), keys and values decoded, offsets committed after each run.
 * Each client runs ROUNDS times after a warm-up round, alternating which goes first; the medians are
 * printed with the ratio platformatic/kafkajs, measured in the same run.
 */
const MESSAGES = Number(process.env.BENCH_CLIENT_MESSAGES ?? 200_000);
const ROUNDS = Number(process.env.BENCH_CLIENT_ROUNDS ?? 3);
const WARM_UP_MESSAGES = 5_000;
const PARTITIONS = 3;
/** A large bounded run (the streaming bench takes 200k in one), in consumer-batch's pieces of 1,000. */
const RUN = { max: 50_000, pieceSize: 1_000, maxWaitMs: 5_000 };

interface Round {
  produceMs: number;
  produceCpuMs: number;
  /** From asking for the member until it had joined the group. */
  joinMs: number;
  consumeMs: number;
  consumeCpuMs: number;
  runs: number;
}

const fmt = (value: number, digits = 0) => value.toLocaleString('en-US', { maximumFractionDigits: digits });
const cpuUsedMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** Values as UTF-8 bytes, made before timing, as producer-batch hands them over (its worker thread encodes them). */
type Records = { key: string; value: Buffer }[];

/** An installed package's version (@platformatic/kafka does not export its package.json: found up from its entry). */
function versionOf(name: string): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve(name));
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return (JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

export default async function kafkaClientsBench(): Promise<void> {
  const id = `bench_clients_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...process.env, LOG_LEVEL: 'warn' });
  const log = createLogger('warn', id);
  const clients = new Map<KafkaClientName, ClosableStreamClient>(
    kafkaClients.map((name) => [name, createStreamClient({ kafka: { ...config.kafka, client: name } }, log)]),
  );
  const topics: string[] = [];
  console.log(
    `node ${process.version}; kafkajs ${versionOf('kafkajs')} (patched), ` +
      `@platformatic/kafka ${versionOf('@platformatic/kafka')}`,
  );
  try {
    const records = simulate({ count: MESSAGES, fraudRate: 0.05, seed: 7 }).map((transaction) => ({
      key: transaction.accountId,
      value: Buffer.from(JSON.stringify(transaction)),
    }));
    const bytes = records.reduce((sum, r) => sum + Buffer.byteLength(r.key) + r.value.length, 0);
    console.log(
      `${fmt(MESSAGES)} transactions, ${fmt(bytes / 1e6, 1)} MB of keys + values; batch sender out, bounded runs of ` +
        `${fmt(RUN.max)} in pieces of ${fmt(RUN.pieceSize)} back; ${ROUNDS} rounds per client, medians`,
    );
    const results = new Map<KafkaClientName, Round[]>(kafkaClients.map((name) => [name, []]));
    for (let round = -1; round < ROUNDS; round++) {
      // Alternate who goes first: the broker's page cache and the other client's garbage favour no one.
      const order = round % 2 === 0 ? [...kafkaClients] : [...kafkaClients].reverse();
      for (const name of order) {
        const topic = `${id}.${name}.${round < 0 ? 'warm-up' : round}`;
        topics.push(topic);
        const measured = await measureRound(
          clients.get(name) as ClosableStreamClient,
          topic,
          round < 0 ? records.slice(0, WARM_UP_MESSAGES) : records,
        );
        if (round >= 0) results.get(name)?.push(measured);
      }
    }
    report(results, bytes);
  } finally {
    for (const client of clients.values()) await client.close().catch(() => {});
    // Deleted only once every producer is closed: a kafkajs producer fails its sends once a topic it
    // sent to is gone.
    await deleteTopics(createKafka(config), topics).catch(() => {});
  }
}

async function measureRound(client: ClosableStreamClient, topic: string, records: Records): Promise<Round> {
  const expectedChars = records.reduce((sum, r) => sum + r.key.length + r.value.toString().length, 0);
  await client.ensureTopics([{ name: topic, partitions: PARTITIONS }]);

  let cpu = cpuUsedMs();
  let started = performance.now();
  const sender = await client.batchSender(topic);
  for (const { key, value } of records) if (sender.add(key, value)) await sender.send();
  await sender.finish();
  const produceMs = performance.now() - started;
  const produceCpuMs = cpuUsedMs() - cpu;

  started = performance.now();
  const consumer = await client.runConsumer(topic, `${topic}.group`);
  const joinMs = performance.now() - started;
  cpu = cpuUsedMs();
  started = performance.now();
  let chars = 0;
  let read = 0;
  let runs = 0;
  while (read < records.length) {
    const signal = new AbortController().signal;
    const taken = await consumer.consume({ ...RUN, signal }, async (pieces) => {
      let count = 0;
      for await (const piece of pieces) {
        for (const message of piece)
          chars += (message.key?.toString().length ?? 0) + (message.value?.toString().length ?? 0);
        count += piece.length;
      }
      return count;
    });
    if (taken === 0) throw new Error(`${topic}: a run found nothing with ${read}/${records.length} read`);
    read += taken;
    runs++;
  }
  const consumeMs = performance.now() - started;
  const consumeCpuMs = cpuUsedMs() - cpu;
  if (read !== records.length || chars !== expectedChars)
    throw new Error(
      `${topic}: read ${read} messages, ${chars} characters; sent ${records.length}, ${expectedChars}`,
    );
  return { produceMs, produceCpuMs, joinMs, consumeMs, consumeCpuMs, runs };
}

function report(results: Map<KafkaClientName, Round[]>, bytes: number): void {
  const medians = new Map<KafkaClientName, Round>();
  for (const [name, rounds] of results) {
    const m = (field: keyof Round) => median(rounds.map((round) => round[field]));
    const round: Round = {
      produceMs: m('produceMs'),
      produceCpuMs: m('produceCpuMs'),
      joinMs: m('joinMs'),
      consumeMs: m('consumeMs'),
      consumeCpuMs: m('consumeCpuMs'),
      runs: m('runs'),
    };
    medians.set(name, round);
    console.log(
      `${name.padEnd(12)} produce ${fmt(MESSAGES / (round.produceMs / 1000))} msg/s, ` +
        `${fmt(bytes / 1e6 / (round.produceMs / 1000), 1)} MB/s, CPU ${fmt(round.produceCpuMs)} ms ` +
        `(${fmt((round.produceCpuMs * 1000) / MESSAGES, 2)} µs/msg) | consume ` +
        `${fmt(MESSAGES / (round.consumeMs / 1000))} msg/s, ${fmt(bytes / 1e6 / (round.consumeMs / 1000), 1)} MB/s, ` +
        `CPU ${fmt(round.consumeCpuMs)} ms (${fmt((round.consumeCpuMs * 1000) / MESSAGES, 2)} µs/msg) in ` +
        `${round.runs} runs, join ${fmt(round.joinMs)} ms`,
    );
  }
  const base = medians.get('kafkajs') as Round;
  const other = medians.get('platformatic') as Round;
  const times = (value: number) => `${value.toFixed(2)}×`;
  console.log(
    `platformatic/kafkajs  produce msg/s ${times(base.produceMs / other.produceMs)}, ` +
      `CPU ${times(other.produceCpuMs / base.produceCpuMs)} | consume msg/s ${times(base.consumeMs / other.consumeMs)}, ` +
      `CPU ${times(other.consumeCpuMs / base.consumeCpuMs)} (throughput > 1 and CPU < 1 favour platformatic)`,
  );
}
