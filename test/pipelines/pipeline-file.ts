import type { SchedulerTest } from '../scheduler/support';

/** The Kafka topics of one pipeline test, named after its isolation: transactions, DLQ, alerts, rollups. */
export function pipelineTopics(test: SchedulerTest) {
  const topic = (name: string) => `${test.t.id}.${name}`;
  return { tx: topic('tx'), dlq: topic('dlq'), alerts: topic('alerts'), rollups: topic('rollups') };
}

export interface PipelineOptions {
  partitions: number;
  /** A producer schedule every second with this many transactions a run; none when left out. */
  producerCount?: number;
  /** The rollup's window (its `every`) and how late events may arrive, in seconds. */
  rollupEvery: number;
  lateness: number;
}

/**
 * A schedules file of a consumer (every second), a rollup of each window of its clock that waits
 * for the consumer's watermark, and optionally a producer, all on the test's own topics and group.
 */
export function pipelineFile(test: SchedulerTest, options: PipelineOptions): string {
  const topics = pipelineTopics(test);
  const producer =
    options.producerCount === undefined
      ? ''
      : `  producer:
    job: producer-batch
    every: 1s
    params: { topic: ${topics.tx}, count: ${options.producerCount} }
`;
  return `topics:
  ${topics.tx}: { partitions: ${options.partitions} }
schedules:
${producer}  consumer:
    job: consumer-batch
    every: 1s
    params:
      topic: ${topics.tx}
      group: ${test.t.id}-group
      dlqTopic: ${topics.dlq}
      alertsTopic: ${topics.alerts}
      batchSize: 5000
      maxWait: 300
  rollup:
    job: stream-rollup
    every: ${options.rollupEvery}s
    watermark: { of: consumer, lateness: ${options.lateness}s }
    params: { topic: ${topics.rollups} }
`;
}
