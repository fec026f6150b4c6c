import type { Logger } from '../log/logger';

/**
 * What the engine asks of traces: tickflow's own small interface, so that nothing outside
 * otel-tracing.ts imports OpenTelemetry. Off (the default), `tracing()` answers undefined and each
 * call site costs one branch: no span, no allocation.
 */
export interface Tracing {
  /**
   * Runs one attempt of a job as a span, active while `work` runs: the spans started under it (Kafka
   * sends and receives, PostgreSQL statements) are its children. Its outcome comes from what `work`
   * returns (completed) or throws (`outcomeOf` the error).
   */
  run<T>(run: RunFacts, work: () => Promise<T>, outcomeOf: (error: unknown) => RunOutcome): Promise<T>;
  /**
   * The W3C `traceparent` of the active span (a run's), which the records it produces carry in
   * their headers; undefined outside any span.
   */
  traceparent(): string | undefined;
  /** One Kafka produce request of `messages` records to `topic`, as a PRODUCER span. */
  kafkaSend<T>(topic: string, messages: number, work: () => Promise<T>): Promise<T>;
  /**
   * A consumer run's pieces, each as a CONSUMER span (`receive <topic>`) from the moment the run asks
   * for it until it arrives, linked to the producer runs of its records (their `traceparent`), with
   * the partitions and offsets it holds; the active span (the run's) gets the same links, once each.
   */
  kafkaReceive<M extends TracedMessage>(
    topic: string,
    group: string,
    pieces: AsyncIterable<M[]>,
  ): AsyncIterable<M[]>;
  /** One PostgreSQL statement (a COPY, an upsert, the commit), as a CLIENT span. */
  postgres<T>(sql: string, work: () => Promise<T>, copyBytes?: number): Promise<T>;
}

/** What a run span says of the attempt. */
export interface RunFacts {
  schedule: string;
  runId: string;
  attempt: number;
  jobType: string;
  window: { from: Date; to: Date };
  scheduledAt?: Date;
}

export type RunOutcome = 'completed' | 'failed' | 'cancelled';

/** What kafkaReceive reads of a consumed message (a ConsumedMessage is one). */
export interface TracedMessage {
  partition: number;
  offset: string;
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** A started tracer: `shutdown` exports the spans still buffered, then turns traces off. */
export interface StartedTracing extends Tracing {
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the OTLP/HTTP receiver; spans go to `<endpoint>/v1/traces`. */
  endpoint: string;
  /** service.name unless OTEL_SERVICE_NAME says otherwise (e.g. tickflow-worker). */
  service: string;
  log: Logger;
}
