import type { StartedTracing, Tracing, TracingOptions } from './tracer';

export type { RunFacts, RunOutcome, TracedMessage, Tracing } from './tracer';

/**
 * Whether traces are on, and the one tracer when they are. Everything else in src/ calls this
 * module; only startTracing loads OpenTelemetry (otel-tracing.ts), so a process without
 * OTEL_EXPORTER_OTLP_ENDPOINT loads none of it, @opentelemetry/api included.
 */
let active: StartedTracing | undefined;

/** The process's tracer, or undefined when traces are off (the default). */
export function tracing(): Tracing | undefined {
  return active;
}

/**
 * Turns traces on when `endpoint` is set: loads the OpenTelemetry SDK and the OTLP/HTTP exporter
 * (only then) and makes them this process's tracer. Answers how to stop it: export what is buffered
 * and turn traces off again (nothing to do when they were off). One tracer per process: a second
 * start while one runs is refused rather than silently replacing it.
 */
export async function startTracing(
  options: Omit<TracingOptions, 'endpoint'> & { endpoint?: string },
): Promise<() => Promise<void>> {
  const { endpoint } = options;
  if (endpoint === undefined) return async () => {};
  if (active) throw new Error('traces are already on in this process; stop them before starting again');
  const { startOtelTracing } = await import('./otel-tracing');
  const started = startOtelTracing({ ...options, endpoint });
  active = started;
  options.log.info({ endpoint }, 'OpenTelemetry traces on (OTEL_EXPORTER_OTLP_ENDPOINT)');
  return async () => {
    if (active !== started) return;
    active = undefined;
    await started.shutdown();
  };
}
