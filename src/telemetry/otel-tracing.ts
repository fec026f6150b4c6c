/**
 * The OpenTelemetry side of src/telemetry/tracing.ts, loaded by startTracing only when traces are on:
 * every import of @opentelemetry/* in tickflow is here, so a process without
 * OTEL_EXPORTER_OTLP_ENDPOINT loads none of them.
 */
import os from 'node:os';
import {
  type Attributes,
  context,
  DiagLogLevel,
  diag,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import {
  defaultResource,
  detectResources,
  resourceAttributesEnvDetector,
  resourceFromAttributes,
  serviceNameEnvDetector,
} from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from '../log/logger';
import { codeVersion } from '../version';
import { statementOf } from './statement';
import type { RunFacts, RunOutcome, StartedTracing, TracedMessage, TracingOptions } from './tracer';

/**
 * The messaging attributes tickflow sets. They are still "incubating" in the semantic conventions,
 * whose package asks that they be copied rather than imported from its unstable entry point.
 */
const MESSAGING = {
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  batchCount: 'messaging.batch.message_count',
  group: 'messaging.consumer.group.name',
} as const;

/** tickflow's own attributes: a run's identity and outcome, and where a piece's records were. */
export const TICKFLOW = {
  schedule: 'tickflow.schedule',
  runId: 'tickflow.run.id',
  attempt: 'tickflow.run.attempt',
  jobType: 'tickflow.job.type',
  windowFrom: 'tickflow.run.window.from',
  windowTo: 'tickflow.run.window.to',
  scheduledAt: 'tickflow.run.scheduled_at',
  outcome: 'tickflow.run.outcome',
  offsets: 'tickflow.kafka.offsets',
  copyBytes: 'tickflow.copy.bytes',
} as const;

const TRACER_NAME = 'tickflow';

export function startOtelTracing(options: TracingOptions): StartedTracing {
  routeDiagnostics(options.log);
  const provider = new TracerProvider({
    resource: resourceOf(options.service),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${options.endpoint.replace(/\/+$/, '')}/v1/traces` }),
      }),
    ],
  });
  // Children find their parent through the active context, which follows a run's awaits.
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return new OtelTracing(provider, contextManager);
}

/**
 * service.name and service.version, then what OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES say
 * (they win), on top of the SDK's defaults.
 */
function resourceOf(service: string) {
  return defaultResource()
    .merge(
      resourceFromAttributes({
        [ATTR_SERVICE_NAME]: service,
        [ATTR_SERVICE_VERSION]: codeVersion(),
        'host.name': os.hostname(),
        'process.pid': process.pid,
      }),
    )
    .merge(detectResources({ detectors: [serviceNameEnvDetector, resourceAttributesEnvDetector] }));
}

/** The SDK's warnings (an unreachable receiver, dropped spans) go to tickflow's log, not nowhere. */
function routeDiagnostics(log: Logger): void {
  const warn = (message: string, ...args: unknown[]) => log.warn({ otel: args }, `OpenTelemetry: ${message}`);
  const ignore = () => {};
  diag.setLogger({ error: warn, warn, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.WARN);
}

class OtelTracing implements StartedTracing {
  private readonly tracer;

  constructor(
    private readonly provider: TracerProvider,
    private readonly contextManager: AsyncLocalStorageContextManager,
  ) {
    this.tracer = provider.getTracer(TRACER_NAME, codeVersion());
  }

  run<T>(run: RunFacts, work: () => Promise<T>, outcomeOf: (error: unknown) => RunOutcome): Promise<T> {
    const span = this.tracer.startSpan(`run ${run.schedule}`, { attributes: runAttributes(run) });
    return context.with(trace.setSpan(context.active(), span), async () => {
      try {
        const result = await work();
        span.setAttribute(TICKFLOW.outcome, 'completed');
        return result;
      } catch (error) {
        const outcome = outcomeOf(error);
        span.setAttribute(TICKFLOW.outcome, outcome);
        if (outcome === 'failed') failed(span, error);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  traceparent(): string | undefined {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return carrier.traceparent;
  }

  kafkaSend<T>(topic: string, messages: number, work: () => Promise<T>): Promise<T> {
    const span = this.tracer.startSpan(`send ${topic}`, {
      kind: SpanKind.PRODUCER,
      attributes: { ...kafka(topic, 'send'), [MESSAGING.batchCount]: messages },
    });
    return ended(span, work);
  }

  kafkaReceive<M extends TracedMessage>(
    topic: string,
    group: string,
    pieces: AsyncIterable<M[]>,
  ): AsyncIterable<M[]> {
    // Taken now: the pieces are read later, by whoever iterates.
    const parent = context.active();
    const run = trace.getSpan(parent);
    const tracer = this.tracer;
    return {
      async *[Symbol.asyncIterator]() {
        const linked = new Set<string>();
        const iterator = pieces[Symbol.asyncIterator]();
        try {
          for (;;) {
            const asked = Date.now();
            const next = await iterator.next();
            if (next.done) return;
            const piece = next.value;
            const producers = producerContexts(piece);
            const links = [...producers.values()];
            tracer
              .startSpan(
                `receive ${topic}`,
                {
                  kind: SpanKind.CONSUMER,
                  startTime: asked,
                  links,
                  attributes: {
                    ...kafka(topic, 'receive'),
                    [MESSAGING.group]: group,
                    [MESSAGING.batchCount]: piece.length,
                    [TICKFLOW.offsets]: offsetRanges(piece),
                  },
                },
                parent,
              )
              .end();
            for (const [traceparent, link] of producers) {
              if (linked.has(traceparent)) continue;
              linked.add(traceparent);
              run?.addLink(link);
            }
            yield piece;
          }
        } finally {
          await iterator.return?.();
        }
      },
    };
  }

  postgres<T>(sql: string, work: () => Promise<T>, copyBytes?: number): Promise<T> {
    const statement = statementOf(sql);
    const attributes: Attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
      [ATTR_DB_OPERATION_NAME]: statement.operation,
      [ATTR_DB_QUERY_TEXT]: statement.text,
    };
    if (statement.table) attributes[ATTR_DB_COLLECTION_NAME] = statement.table;
    if (copyBytes !== undefined) attributes[TICKFLOW.copyBytes] = copyBytes;
    return ended(this.tracer.startSpan(statement.name, { kind: SpanKind.CLIENT, attributes }), work);
  }

  async shutdown(): Promise<void> {
    // Exports what is buffered first; then the API falls back to its no-op tracer.
    await this.provider.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
    this.contextManager.disable();
    diag.disable();
  }
}

function runAttributes(run: RunFacts): Attributes {
  return {
    [TICKFLOW.schedule]: run.schedule,
    [TICKFLOW.runId]: run.runId,
    [TICKFLOW.attempt]: run.attempt,
    [TICKFLOW.jobType]: run.jobType,
    [TICKFLOW.windowFrom]: run.window.from.toISOString(),
    [TICKFLOW.windowTo]: run.window.to.toISOString(),
    ...(run.scheduledAt ? { [TICKFLOW.scheduledAt]: run.scheduledAt.toISOString() } : {}),
  };
}

function kafka(topic: string, operation: 'send' | 'receive'): Attributes {
  return {
    [MESSAGING.system]: 'kafka',
    [MESSAGING.destination]: topic,
    [MESSAGING.operationType]: operation,
    [MESSAGING.operationName]: operation,
  };
}

/** Ends `span` when `work` settles, as an error if it throws. */
async function ended<T>(span: Span, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    failed(span, error);
    throw error;
  } finally {
    span.end();
  }
}

function failed(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  span.recordException(err);
  span.setAttribute(ATTR_ERROR_TYPE, err.name);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

/**
 * The distinct producer runs of a piece's records, by their `traceparent` header: a piece of 1,000
 * records usually comes from one or two runs. Records without one (another producer) link nothing.
 */
function producerContexts(piece: TracedMessage[]): Map<string, Link> {
  const seen = new Map<string, Link>();
  let previous: TracedMessage['headers'][string];
  for (const message of piece) {
    const header = message.headers.traceparent;
    // Runs of records from one producer run: compared as bytes, not decoded again.
    if (header === undefined || sameBytes(header, previous)) continue;
    previous = header;
    const traceparent = String(Array.isArray(header) ? header[0] : header);
    if (seen.has(traceparent)) continue;
    const spanContext = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { traceparent }));
    if (spanContext && trace.isSpanContextValid(spanContext)) seen.set(traceparent, { context: spanContext });
  }
  return seen;
}

function sameBytes(a: TracedMessage['headers'][string], b: TracedMessage['headers'][string]): boolean {
  return Buffer.isBuffer(a) && Buffer.isBuffer(b) ? a.equals(b) : a === b;
}

/**
 * `partition:first-last` for each partition of a piece (fetched in offset order per partition): a
 * stored row's kafka_partition and kafka_offset find the receive span that brought it.
 */
function offsetRanges(piece: TracedMessage[]): string[] {
  const ranges = new Map<number, { first: string; last: string }>();
  for (const { partition, offset } of piece) {
    const range = ranges.get(partition);
    if (range) range.last = offset;
    else ranges.set(partition, { first: offset, last: offset });
  }
  return [...ranges].map(([partition, { first, last }]) => `${partition}:${first}-${last}`);
}
