import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { projectPath } from '../paths';
import { startTracing, tracing } from './tracing';

/**
 * A fresh Node process that loads the worker's and the scheduler's whole module graph, starts
 * traces with `endpoint` (none: the variable unset), and prints which @opentelemetry modules were
 * resolved since it started, and by whom. Module resolution hooks see every import, ESM or CJS.
 */
const PROBE = `
import { registerHooks } from 'node:module';
const resolved = [];
registerHooks({
  resolve(specifier, context, next) {
    if (specifier.startsWith('@opentelemetry/')) resolved.push({ specifier, by: context.parentURL });
    return next(specifier, context);
  },
});
const root = process.argv[1];
const { startTracing, tracing } = await import(root + '/src/telemetry/tracing.ts');
await import(root + '/src/app/worker-app.ts');
await import(root + '/src/app/scheduler-app.ts');
const { createLogger } = await import(root + '/src/log/logger.ts');
const stop = await startTracing({ endpoint: process.argv[2] || undefined, service: 'probe', log: createLogger('silent') });
console.log(JSON.stringify({ on: tracing() !== undefined, resolved }));
await stop();
`;

interface Probe {
  on: boolean;
  resolved: { specifier: string; by: string }[];
}

async function probe(endpoint?: string): Promise<Probe> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', PROBE, projectPath(), endpoint ?? ''],
    { cwd: projectPath() },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Probe;
}

const specifiers = (p: Probe) => [...new Set(p.resolved.map((r) => r.specifier))];

describe('traces off (OTEL_EXPORTER_OTLP_ENDPOINT unset)', () => {
  it('loads no OpenTelemetry SDK or exporter, and tickflow’s own code imports no @opentelemetry module', async () => {
    const off = await probe();
    expect(off.on).toBe(false);
    // @prometheus-io/client (the /metrics registry) requires @opentelemetry/api for exemplars on its own: the
    // API alone, with no SDK registered, is its no-op. Nothing else may be loaded.
    expect(specifiers(off).filter((s) => s !== '@opentelemetry/api')).toEqual([]);
    expect(off.resolved.filter((r) => !r.by.includes('/node_modules/'))).toEqual([]);
  });

  it('is the default in this process: tracing() answers undefined, and starting without an endpoint changes nothing', async () => {
    expect(tracing()).toBeUndefined();
    const stop = await startTracing({ endpoint: undefined, service: 'test', log: silentLog });
    expect(tracing()).toBeUndefined();
    await stop();
  });
});

describe('traces on (OTEL_EXPORTER_OTLP_ENDPOINT set)', () => {
  it('loads the SDK and the OTLP/HTTP exporter only then, from src/telemetry/otel-tracing.ts', async () => {
    // Port 9 (discard): nothing listens; a tracer with no span exports nothing.
    const on = await probe('http://127.0.0.1:9');
    expect(on.on).toBe(true);
    expect(specifiers(on)).toEqual(
      expect.arrayContaining(['@opentelemetry/sdk-trace', '@opentelemetry/exporter-trace-otlp-http']),
    );
    const ownImports = on.resolved.filter((r) => !r.by.includes('/node_modules/'));
    expect(new Set(ownImports.map((r) => r.by.replace(/.*\/src\//, 'src/')))).toEqual(
      new Set(['src/telemetry/otel-tracing.ts']),
    );
  });
});

const silentLog = { info() {}, warn() {} } as unknown as Parameters<typeof startTracing>[0]['log'];
