import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import { triggerRun } from '../../src/control/trigger';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { OFF_THREAD_MIN } from '../../src/producer/record-stream';
import { OtlpReceiver, type ReceivedSpan, SPAN_KIND } from '../otlp-receiver';
import { finishedRuns, SchedulerTest } from '../scheduler/support';
import { readTopic } from '../streaming/read-topic';

let s: SchedulerTest | undefined;
let receiver: OtlpReceiver | undefined;
afterEach(async () => {
  if (s) {
    await deleteTopics(createKafka(s.config), ['tx', 'dlq', 'alerts'].map(s.t.topic)).catch(() => {});
    await s.cleanup();
  }
  await receiver?.close();
});

/** Large enough that the producer makes its records on a thread of its own (record-stream.ts). */
const PRODUCED = OFF_THREAD_MIN;

describe('OpenTelemetry traces (real Kafka, Redis, PostgreSQL; a local OTLP/HTTP receiver)', () => {
  it('makes each run a span, and follows transactions from the producer run, through their records’ traceparent, to the consumer run that stored them', async () => {
    receiver = await OtlpReceiver.start();
    s = new SchedulerTest('otel', { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
    const [tx, dlq, alerts] = [s.t.topic('tx'), s.t.topic('dlq'), s.t.topic('alerts')];
    // Once a year: the only runs are the ones triggered here.
    s.writeSchedules(`topics:
  ${tx}: { partitions: 3 }
schedules:
  producer:
    job: producer-batch
    cron: "0 0 1 1 *"
    params: { topic: ${tx}, count: ${PRODUCED}, malformedRate: 0.01 }
  consumer:
    job: consumer-batch
    cron: "0 0 1 1 *"
    params: { topic: ${tx}, group: ${s.t.id}, dlqTopic: ${dlq}, alertsTopic: ${alerts}, batchSize: ${PRODUCED}, maxWait: 1000 }
  failing:
    job: sleep
    cron: "0 0 1 1 *"
    params: { ms: 1, failAttempts: 1 }
`);
    const running = await s.start();
    let producerRunId: string;
    let malformed: number;
    let failedRunId: string;
    const consumerRunIds: string[] = [];
    try {
      [failedRunId] = await runNow(running, 'failing', 'failed');
      const [runId, result] = await runNow(running, 'producer');
      producerRunId = runId;
      malformed = result.malformed as number;
      // The group's first join can take a run or two; then it reads everything.
      for (let consumed = 0, runs = 0; consumed < PRODUCED && runs < 10; runs++) {
        const [runId, result] = await runNow(running, 'consumer');
        consumerRunIds.push(runId);
        consumed += result.consumed as number;
      }
    } finally {
      // Stopping the process's tracer exports every span still buffered.
      await s.stop(running);
    }
    expect(receiver.refused).toEqual([]);
    const spans = receiver.spans;
    const childrenOf = (parent: ReceivedSpan) => spans.filter((span) => span.parentSpanId === parent.spanId);

    // A failed attempt: its span says so, as an error with the job's message.
    const failed = runSpan(spans, failedRunId);
    expect(failed.attributes['tickflow.run.outcome']).toBe('failed');
    expect(failed.status).toMatchObject({
      code: 2,
      message: expect.stringMatching(/failing attempt 1 on purpose/),
    });

    // The producer run: a span with the run's identity, window and outcome, its Kafka sends under it.
    const producer = runSpan(spans, producerRunId);
    expect(producer.service).toBe('tickflow-scheduler');
    expect(producer.name).toBe('run producer');
    expect(producer.attributes).toMatchObject({
      'tickflow.schedule': 'producer',
      'tickflow.run.attempt': 1,
      'tickflow.job.type': 'producer-batch',
      'tickflow.run.outcome': 'completed',
    });
    expect(Date.parse(producer.attributes['tickflow.run.window.to'] as string)).toBeGreaterThan(0);
    expect(producer.attributes['tickflow.run.window.from']).toEqual(expect.any(String));
    const sends = childrenOf(producer).filter((span) => span.name === `send ${tx}`);
    expect(sends.length).toBeGreaterThan(1);
    expect(sends.every((span) => span.kind === SPAN_KIND.producer && span.traceId === producer.traceId)).toBe(
      true,
    );
    expect(sum(sends, 'messaging.batch.message_count')).toBe(PRODUCED);
    expect(sends[0]?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': tx,
    });

    // Every record, made on the record thread, carries the producer run's span context.
    const records = await readTopic(createKafka(s.config), tx, PRODUCED);
    const traceparent = `00-${producer.traceId}-${producer.spanId}-01`;
    expect(new Set(records.map((record) => record.headers?.traceparent?.toString()))).toEqual(
      new Set([traceparent]),
    );

    // The consumer runs: receive spans under them link to the producer run, as do the runs themselves.
    const producerLink = { traceId: producer.traceId, spanId: producer.spanId };
    const consumers = consumerRunIds.map((runId) => runSpan(spans, runId));
    expect(consumers.every((span) => span.attributes['tickflow.run.outcome'] === 'completed')).toBe(true);
    const receives = consumers.flatMap(childrenOf).filter((span) => span.name === `receive ${tx}`);
    expect(receives.every((span) => span.kind === SPAN_KIND.consumer)).toBe(true);
    expect(sum(receives, 'messaging.batch.message_count')).toBe(PRODUCED);
    expect(receives.every((span) => contains(span.links, producerLink))).toBe(true);
    expect(receives[0]?.attributes['messaging.consumer.group.name']).toBe(s.t.id);
    // Dead letters go out from the consumer run, and keep the producer run's traceparent.
    const deadLetterSends = consumers.flatMap(childrenOf).filter((span) => span.name === `send ${dlq}`);
    expect(malformed).toBeGreaterThan(0);
    expect(sum(deadLetterSends, 'messaging.batch.message_count')).toBe(malformed);
    const deadLetters = await readTopic(createKafka(s.config), dlq, malformed);
    expect(new Set(deadLetters.map((record) => record.headers?.traceparent?.toString()))).toEqual(
      new Set([traceparent]),
    );
    const reading = consumers.filter((run) => receives.some((span) => span.parentSpanId === run.spanId));
    expect(reading.length).toBeGreaterThan(0);
    expect(reading.every((run) => contains(run.links, producerLink))).toBe(true);

    // One stored row, followed back: the receive span whose offsets hold it links to the producer
    // run, and its consumer run wrote it with a COPY and committed it, each a PostgreSQL span.
    const { rows } = await s.db.query<{ kafka_partition: number; kafka_offset: string }>(
      'select kafka_partition, kafka_offset from transactions order by random() limit 1',
    );
    const row = rows[0] as { kafka_partition: number; kafka_offset: string };
    const receive = receives.find((span) =>
      (span.attributes['tickflow.kafka.offsets'] as string[]).some((range) =>
        holds(range, row.kafka_partition, BigInt(row.kafka_offset)),
      ),
    ) as ReceivedSpan;
    expect(receive, 'a receive span holds the stored row').toBeDefined();
    expect(contains(receive.links, producerLink)).toBe(true);
    const storedBy = consumers.find((run) => run.spanId === receive.parentSpanId) as ReceivedSpan;
    const statements = childrenOf(storedBy).filter(
      (span) => span.attributes['db.system.name'] === 'postgresql',
    );
    expect(statements.map((span) => span.name)).toEqual(
      expect.arrayContaining(['COPY transactions', 'COMMIT']),
    );
    expect(statements.every((span) => span.kind === SPAN_KIND.client)).toBe(true);
    const copy = statements.find((span) => span.name === 'COPY transactions') as ReceivedSpan;
    expect(copy.attributes).toMatchObject({
      'db.operation.name': 'COPY',
      'db.collection.name': 'transactions',
    });
    expect(copy.attributes['tickflow.copy.bytes']).toBeGreaterThan(0);
  });
});

/** Triggers a run of `schedule` and waits for its attempt to end as `state`: its run id and result. */
async function runNow(
  running: SchedulerApp,
  schedule: string,
  state: 'completed' | 'failed' = 'completed',
): Promise<[string, Record<string, unknown>]> {
  const finished = finishedRuns(running, schedule, 1, undefined, { timeoutMs: 45_000 });
  const { runId } = await triggerRun(running.control, schedule, { by: 'test:otel' });
  const [run] = await finished;
  expect(run).toMatchObject({ runId, state });
  return [runId, (run as { result?: Record<string, unknown> }).result ?? {}];
}

function runSpan(spans: ReceivedSpan[], runId: string): ReceivedSpan {
  const found = spans.filter((span) => span.attributes['tickflow.run.id'] === runId);
  expect(found, `one span for run ${runId}`).toHaveLength(1);
  return found[0] as ReceivedSpan;
}

const sum = (spans: ReceivedSpan[], attribute: string) =>
  spans.reduce((total, span) => total + (span.attributes[attribute] as number), 0);

const contains = (links: ReceivedSpan['links'], link: { traceId: string; spanId: string }) =>
  links.some((l) => l.traceId === link.traceId && l.spanId === link.spanId);

/** Whether `partition:first-last` holds that partition's offset. */
function holds(range: string, partition: number, offset: bigint): boolean {
  const [p, first, last] = range.split(/[:-]/);
  return Number(p) === partition && BigInt(first as string) <= offset && offset <= BigInt(last as string);
}
