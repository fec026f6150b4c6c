import type { Kafka } from 'kafkajs';

export interface TopicSpec {
  name: string;
  partitions: number;
  /** How long Kafka keeps messages; undefined keeps the broker default. */
  retentionMs?: number;
  /** Compacted topics keep the latest message per key. */
  compact?: boolean;
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
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({
        topic: topic.name,
        numPartitions: topic.partitions,
        replicationFactor: 1,
        configEntries: [
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
