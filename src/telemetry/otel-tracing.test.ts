import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OtlpReceiver, type ReceivedSpan, SPAN_KIND } from '../../test/otlp-receiver';
import { createLogger } from '../log/logger';
import { type RunFacts, startTracing, type TracedMessage, type Tracing, tracing } from './tracing';

/**
 * The OpenTelemetry side of tracing.ts in this process, exported to a local OTLP/HTTP receiver (no
 * Kafka, no PostgreSQL: the work under each span is a stand-in). What the spans say, how they nest,
 * and how a consumer run links to the producer runs of what it reads.
 */
let receiver: OtlpReceiver;
let spans: ReceivedSpan[];
let producerTraceparent: string | undefined;
const otherProducer = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

const facts = (schedule: string): RunFacts => ({
  schedule,
  runId: `${schedule}-1`,
  attempt: 2,
  jobType: 'sleep',
  window: { from: new Date('2026-01-01T00:00:00Z'), to: new Date('2026-01-01T00:00:10Z') },
  scheduledAt: new Date('2026-01-01T00:00:10Z'),
});

const message = (partition: number, offset: string, traceparent?: string): TracedMessage => ({
  partition,
  offset,
  headers: traceparent ? { traceparent: Buffer.from(traceparent) } : {},
});

async function* pieces(): AsyncGenerator<TracedMessage[]> {
  yield [message(0, '5', producerTraceparent), message(1, '7', producerTraceparent), message(0, '6')];
  yield [message(2, '1', otherProducer), message(2, '2', producerTraceparent)];
}

beforeAll(async () => {
  receiver = await OtlpReceiver.start();
  const stop = await startTracing({ endpoint: receiver.url, service: 'unit', log: createLogger('silent') });
  const traces = tracing() as Tracing;
  const failed = () => 'failed' as const;
  await traces.run(
    facts('producer'),
    async () => {
      producerTraceparent = traces.traceparent();
      await traces.kafkaSend('tx', 3, async () => {});
    },
    failed,
  );
  await traces.run(
    facts('consumer'),
    async () => {
      for await (const _ of traces.kafkaReceive('tx', 'group-1', pieces()));
      await traces.postgres('copy transactions (transaction_id) from stdin', async () => {}, 1234);
      await traces.postgres('commit', async () => {});
    },
    failed,
  );
  await traces.run(facts('broken'), () => Promise.reject(new Error('boom')), failed).catch(() => {});
  await traces
    .run(
      facts('stopped'),
      () => Promise.reject(new Error('cancelled by ops')),
      () => 'cancelled',
    )
    .catch(() => {});
  // Exports every span still buffered, then turns traces off.
  await stop();
  spans = receiver.spans;
});

afterAll(() => receiver.close());

const named = (name: string) => spans.filter((span) => span.name === name);
const one = (name: string) => {
  expect(named(name), name).toHaveLength(1);
  return named(name)[0] as ReceivedSpan;
};

describe('OpenTelemetry traces (a local OTLP/HTTP receiver)', () => {
  it('turns off again once stopped', () => {
    expect(tracing()).toBeUndefined();
    expect(receiver.refused).toEqual([]);
  });

  it('makes a run a root span with its identity, window and outcome', () => {
    const run = one('run producer');
    expect(run.parentSpanId || undefined).toBeUndefined();
    expect(run.service).toBe('unit');
    expect(run.attributes).toEqual(
      expect.objectContaining({
        'tickflow.schedule': 'producer',
        'tickflow.run.id': 'producer-1',
        'tickflow.run.attempt': 2,
        'tickflow.job.type': 'sleep',
        'tickflow.run.window.from': '2026-01-01T00:00:00.000Z',
        'tickflow.run.window.to': '2026-01-01T00:00:10.000Z',
        'tickflow.run.scheduled_at': '2026-01-01T00:00:10.000Z',
        'tickflow.run.outcome': 'completed',
      }),
    );
  });

  it('gives the run’s own span context as the traceparent its records carry, and its sends as children', () => {
    const run = one('run producer');
    expect(producerTraceparent).toBe(`00-${run.traceId}-${run.spanId}-01`);
    const send = one('send tx');
    expect(send).toMatchObject({ kind: SPAN_KIND.producer, traceId: run.traceId, parentSpanId: run.spanId });
    expect(send.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'tx',
      'messaging.operation.type': 'send',
      'messaging.batch.message_count': 3,
    });
  });

  it('makes each piece a consumer a receive span linked to its records’ producer runs, with its offsets', () => {
    const producer = one('run producer');
    const consumer = one('run consumer');
    const [first, second] = named('receive tx');
    expect(first).toMatchObject({ kind: SPAN_KIND.consumer, parentSpanId: consumer.spanId });
    expect(first?.attributes).toMatchObject({
      'messaging.consumer.group.name': 'group-1',
      'messaging.batch.message_count': 3,
      'tickflow.kafka.offsets': ['0:5-6', '1:7-7'],
    });
    expect(first?.links).toEqual([{ traceId: producer.traceId, spanId: producer.spanId }]);
    expect(second?.attributes['tickflow.kafka.offsets']).toEqual(['2:1-2']);
    expect(second?.links).toEqual([
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' },
      { traceId: producer.traceId, spanId: producer.spanId },
    ]);
  });

  it('links the consumer run to each producer run it read from, once each', () => {
    const producer = one('run producer');
    expect(one('run consumer').links).toEqual([
      { traceId: producer.traceId, spanId: producer.spanId },
      { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' },
    ]);
  });

  it('makes each PostgreSQL statement a client span under the run', () => {
    const consumer = one('run consumer');
    const copy = one('COPY transactions');
    expect(copy).toMatchObject({ kind: SPAN_KIND.client, parentSpanId: consumer.spanId });
    expect(copy.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.operation.name': 'COPY',
      'db.collection.name': 'transactions',
      'db.query.text': 'copy transactions (transaction_id) from stdin',
      'tickflow.copy.bytes': 1234,
    });
    expect(one('COMMIT').parentSpanId).toBe(consumer.spanId);
  });

  it('marks a failed run as an error with its message, and a cancelled one as cancelled, not an error', () => {
    const broken = one('run broken');
    expect(broken.attributes['tickflow.run.outcome']).toBe('failed');
    expect(broken.attributes['error.type']).toBe('Error');
    expect(broken.status).toMatchObject({ code: 2, message: 'boom' });
    const stopped = one('run stopped');
    expect(stopped.attributes['tickflow.run.outcome']).toBe('cancelled');
    expect(stopped.status?.code ?? 0).not.toBe(2);
  });
});
