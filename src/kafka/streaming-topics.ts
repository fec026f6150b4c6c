import type { TopicSpec } from './topics';

const DAY_MS = 86_400_000;

/** The names the Airflow DAGs used; the jobs' defaults and `tickflow lag`'s. */
export const STREAMING_DEFAULTS = {
  transactionsTopic: 'fraud-detection-transactions',
  deadLetterTopic: 'fraud-detection-transactions-dlq',
  alertsTopic: 'fraud-alerts',
  predictionsTopic: 'fraud-predictions',
  rollupsTopic: 'fraud-rollups',
  consumerGroup: 'tickflow-consumer-batch',
} as const;

/**
 * Defaults for topics the streaming jobs ensure at start. An existing topic is left as it is, so a
 * `topics:` block (or an operator) that created it first wins.
 */
export const streamingTopicDefaults = {
  /** Keyed by account: 3 partitions let up to 3 workers share the load in order per account. */
  transactions: (name: string): TopicSpec => ({ name, partitions: 3, retentionMs: 7 * DAY_MS }),
  /** Kept longer: someone has to look at what failed. */
  deadLetter: (name: string): TopicSpec => ({ name, partitions: 1, retentionMs: 30 * DAY_MS }),
  alerts: (name: string): TopicSpec => ({ name, partitions: 3, retentionMs: 14 * DAY_MS }),
  /** Keyed by transaction id, one per scored transaction: kept as long as the transactions. */
  predictions: (name: string): TopicSpec => ({ name, partitions: 3, retentionMs: 7 * DAY_MS }),
  /** Compacted: Kafka keeps the latest message per window, market and channel, so a re-run replaces it. */
  rollups: (name: string): TopicSpec => ({ name, partitions: 1, compact: true }),
};
