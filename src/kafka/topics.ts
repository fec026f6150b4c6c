import type { Kafka } from 'kafkajs';

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
      waitForLeaders: true,
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
    return missing.map((topic) => topic.name);
  } finally {
    await admin.disconnect();
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
