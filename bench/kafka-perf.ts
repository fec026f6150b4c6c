import path from 'node:path';
import type { Config } from '../src/config/config';
import type { Logger } from '../src/log/logger';
import { ensureKafkaJars, KAFKA_VERSION } from '../src/services/kafka';
import { findExecutable, missingTool, runChecked } from '../src/services/process';

/**
 * Kafka's own performance tools (org.apache.kafka:kafka-tools at the broker's version), run on
 * the same broker as the bench's tickflow figures: they are the Kafka references of its ratios.
 */
const TOOLS_JARS = { name: 'kafka-tools', pom: path.join(import.meta.dirname, 'kafka-tools-pom.xml') };

/** Issue #9's reference settings: acks=all as tickflow's idempotent producer, its 512 KiB batches, 10 ms linger. */
export const REFERENCE_PRODUCER_PROPS = ['acks=all', 'batch.size=524288', 'linger.ms=10'];

export interface PerfFigures {
  messages: number;
  perSecond: number;
  mbPerSecond: number;
}

async function runTool(config: Config, log: Logger, tool: string, args: string[]): Promise<string> {
  const java = findExecutable('java');
  if (!java) throw missingTool('the Kafka reference', 'java', 'apt-get install openjdk-17-jre-headless');
  const jarsDir = await ensureKafkaJars(config, log, TOOLS_JARS);
  return runChecked(
    java,
    ['-Xmx512m', '-cp', path.join(jarsDir, '*'), `org.apache.kafka.tools.${tool}`, ...args],
    `Kafka ${KAFKA_VERSION} ${tool}`,
  );
}

/** ProducerPerformance: `messages` records of `recordSize` bytes into an existing `topic`, as fast as it can. */
export async function producerPerformance(
  config: Config,
  log: Logger,
  options: { topic: string; messages: number; recordSize: number },
): Promise<PerfFigures> {
  const output = await runTool(config, log, 'ProducerPerformance', [
    '--topic',
    options.topic,
    '--num-records',
    String(options.messages),
    '--record-size',
    String(options.recordSize),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${config.kafka.brokers.join(',')}`,
    ...REFERENCE_PRODUCER_PROPS,
  ]);
  return parseProducerPerformance(output);
}

/**
 * ProducerPerformance prints a progress line every 5 s and, last, its summary:
 * `200000 records sent, 95238.1 records/sec (34.15 MB/sec), 250.1 ms avg latency, … 99.9th.`
 */
export function parseProducerPerformance(output: string): PerfFigures {
  const summary = output
    .split('\n')
    .filter((line) => line.includes('99.9th'))
    .at(-1)
    ?.match(/^(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\)/);
  if (!summary)
    throw new Error(`ProducerPerformance printed no summary line ("… records sent … 99.9th."):\n${output}`);
  return { messages: Number(summary[1]), perSecond: Number(summary[2]), mbPerSecond: Number(summary[3]) };
}

/**
 * ConsumerPerformance: `messages` records from the start of `topic` with a fresh `group`. Its fetch
 * rate leaves out the group join, as the bench's tickflow consumer figure does (its member is warm).
 */
export async function consumerPerformance(
  config: Config,
  log: Logger,
  options: { topic: string; messages: number; group: string },
): Promise<PerfFigures> {
  const output = await runTool(config, log, 'ConsumerPerformance', [
    '--bootstrap-server',
    config.kafka.brokers.join(','),
    '--topic',
    options.topic,
    '--messages',
    String(options.messages),
    '--group',
    options.group,
    '--timeout',
    '30000',
  ]);
  return parseConsumerPerformance(output);
}

/**
 * ConsumerPerformance prints a CSV header and one row: `start.time, end.time, data.consumed.in.MB,
 * MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec`.
 */
export function parseConsumerPerformance(output: string): PerfFigures {
  const lines = output.split('\n').map((line) => line.split(',').map((cell) => cell.trim()));
  const headerAt = lines.findIndex((cells) => cells.includes('fetch.nMsg.sec'));
  const header = lines[headerAt];
  const row = lines[headerAt + 1];
  if (!header || !row || row.length !== header.length)
    throw new Error(`ConsumerPerformance printed no header and row with fetch.nMsg.sec:\n${output}`);
  const field = (name: string) => Number(row[header.indexOf(name)]);
  return {
    messages: field('data.consumed.in.nMsg'),
    perSecond: field('fetch.nMsg.sec'),
    mbPerSecond: field('fetch.MB.sec'),
  };
}
