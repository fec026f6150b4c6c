import { setTimeout } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';

export interface TopicSpec {
  name: string;
  partitions: number;
  /** How long Kafka keeps messages; undefined keeps the broker default. */
  retentionMs?: number;
  /** Compacted topics keep the latest message per key. */
  compact?: boolean;
  /** Copies of each partition; undefined: min(3, brokers in the cluster). */
  replicas?: number;
}

/**
 * Replicas and the in-sync copies a write with acks=all needs: one broker may be lost without losing
 * a write or refusing one (3 replicas, min.insync.replicas 2, as Kafka's own guidance for production).
 */
export function replicationOf(topic: TopicSpec, brokers: number): { replicas: number; minInSync: number } {
  const replicas = topic.replicas ?? Math.min(3, brokers);
  if (replicas > brokers) {
    throw new Error(
      `topics.${topic.name}.replicas is ${replicas} but the Kafka cluster has ${brokers} broker${brokers === 1 ? '' : 's'}: ` +
        `lower replicas to at most ${brokers} (or leave it out for min(3, brokers))`,
    );
  }
  return { replicas, minInSync: Math.max(1, replicas - 1) };
}

/**
 * Creates the topics that do not exist yet and waits for their leaders. Existing topics are
 * left as they are (Kafka cannot shrink partitions; changing retention is an operator's call).
 */
export async function ensureTopics(kafka: Kafka, topics: TopicSpec[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((topic) => !existing.has(topic.name));
    if (missing.length === 0) return [];
    const { brokers } = await admin.describeCluster();
    const replication = missing.map((topic) => replicationOf(topic, brokers.length));
    await admin.createTopics({
      // kafkajs's own wait fails when it asks a broker that has not heard of the topic yet (a cluster).
      waitForLeaders: false,
      topics: missing.map((topic, index) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: replication[index]?.replicas,
        configEntries: [
          { name: 'min.insync.replicas', value: String(replication[index]?.minInSync) },
          ...(topic.retentionMs === undefined
            ? []
            : [{ name: 'retention.ms', value: String(topic.retentionMs) }]),
          ...(topic.compact ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
        ],
      })),
    });
    await waitForLeaders(
      admin,
      missing.map((topic) => topic.name),
    );
    return missing.map((topic) => topic.name);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Waits until every partition of `names` has a leader. On a cluster the brokers learn of a new topic
 * one after another: until then the one asked answers "does not host this topic-partition", which is
 * a wait here, not a failure.
 */
async function waitForLeaders(admin: Admin, names: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const led = await admin
      .fetchTopicMetadata({ topics: names })
      .then(({ topics }) => topics.every((topic) => topic.partitions.every((p) => p.leader >= 0)))
      .catch((error: Error) => {
        if (Date.now() > deadline) throw error;
        return false;
      });
    if (led) return;
    if (Date.now() > deadline)
      throw new Error(`Kafka topics ${names.join(', ')} got no leaders within ${timeoutMs / 1000}s`);
    await setTimeout(100);
  }
}

export async function deleteTopics(kafka: Kafka, names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = names.filter((name) => existing.has(name));
    if (present.length) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}
