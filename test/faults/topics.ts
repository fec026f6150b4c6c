import { type Admin, type IHeaders, Kafka, logLevel } from 'kafkajs';
import type { Config } from '../../src/config/config';

export type Offsets = Map<number, number>;

export interface TopicMessage {
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

/**
 * The suite's own client: fails within seconds while the broker is down, so that waits re-check
 * often, but retries a little (a fresh admin's first group-coordinator lookup fails without a retry).
 */
function suiteKafka(config: Config): Kafka {
  return new Kafka({
    clientId: 'tickflow-faults',
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
}

/** A short-lived admin per call: the suite's own reads must work again as soon as a restarted broker does. */
export async function withAdmin<T>(config: Config, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = suiteKafka(config).admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** The next offset to be written, per partition (the high watermark). */
export async function endOffsets(config: Config, topic: string): Promise<Offsets> {
  return withAdmin(config, async (admin) => {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((p) => [p.partition, Number(p.high)]));
  });
}

/** The group's committed offsets per partition (-1: nothing committed yet). */
export async function committedOffsets(config: Config, group: string, topic: string): Promise<Offsets> {
  return withAdmin(config, async (admin) => {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  });
}

/** True when the group has committed past everything `ends` says was written. */
export async function caughtUp(
  config: Config,
  group: string,
  topic: string,
  ends: Offsets,
): Promise<boolean> {
  const committed = await committedOffsets(config, group, topic);
  return [...ends].every(([partition, end]) => end === 0 || (committed.get(partition) ?? -1) >= end);
}

export async function lag(config: Config, group: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([
    endOffsets(config, topic),
    committedOffsets(config, group, topic),
  ]);
  let total = 0;
  for (const [partition, end] of ends) total += end - Math.max(0, committed.get(partition) ?? 0);
  return total;
}

/**
 * Every message of a topic, from the start to the high watermark of each partition as it is when
 * the read begins, with a throwaway group (nothing is committed).
 */
export async function readWholeTopic(
  config: Config,
  topic: string,
  timeoutMs = 60_000,
): Promise<TopicMessage[]> {
  const ends = await endOffsets(config, topic);
  const pending = new Set([...ends].filter(([, end]) => end > 0).map(([partition]) => partition));
  const messages: TopicMessage[] = [];
  if (pending.size === 0) return messages;
  const consumer = suiteKafka(config).consumer({
    groupId: `faults-reader-${topic}-${Date.now()}`,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 8 * 1024 * 1024,
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(`read ${messages.length} messages of ${topic}; partitions ${[...pending]} unfinished`),
          ),
        timeoutMs,
      );
      void consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.get(batch.partition) ?? 0;
          for (const message of batch.messages) {
            const offset = Number(message.offset);
            if (offset >= end) break;
            messages.push({
              partition: batch.partition,
              offset,
              key: message.key,
              value: message.value,
              headers: message.headers ?? {},
            });
            if (offset === end - 1) pending.delete(batch.partition);
          }
          if (pending.size === 0) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}
