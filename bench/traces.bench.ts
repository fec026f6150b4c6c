import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../src/log/logger';
import { OFF_THREAD_MIN } from '../src/producer/record-stream';
import type { RunFacts } from '../src/telemetry/tracing';
import { startTracing, tracing } from '../src/telemetry/tracing';
import { type StreamingEnv, streamingEnv } from '../test/streaming/streaming-env';
import { fmt } from './format';

/**
 * What OpenTelemetry traces cost a producer and a consumer run: the same runs with traces off and
 * on, taking turns in one process (so both meet the same machine), each run as the worker runs it
 * (under a run span when on). Spans go to a local OTLP/HTTP receiver that only counts them. The
 * runs are large enough that the producer's records come from its thread and the consumer's
 * transaction runs on its own thread, as in production runs of that size.
 */
const MESSAGES = 50_000;
const ROUNDS = 3;

interface Round {
  produceMs: number;
  produceCpuMs: number;
  consumeMs: number;
  consumeCpuMs: number;
}

export default async function tracesBench(): Promise<void> {
  const receiver = await spanCounter();
  const env = await streamingEnv('tracebench');
  const rounds: Record<'off' | 'on', Round[]> = { off: [], on: [] };
  try {
    await warmUp(env);
    for (let round = 0; round < ROUNDS; round++) {
      rounds.off.push(await measure(env));
      const stop = await startTracing({
        endpoint: receiver.url,
        service: 'bench',
        log: createLogger('warn'),
      });
      rounds.on.push(await measure(env));
      await stop();
    }
  } finally {
    await env.cleanup();
    receiver.server.close();
  }
  for (const figure of ['produceMs', 'produceCpuMs', 'consumeMs', 'consumeCpuMs'] as const) {
    const off = median(rounds.off.map((r) => r[figure]));
    const on = median(rounds.on.map((r) => r[figure]));
    console.log(
      `${figure.padEnd(14)} off ${fmt(off).padStart(6)} ms | on ${fmt(on).padStart(6)} ms | ${(on / off).toFixed(2)}× ` +
        `(median of ${ROUNDS}, ${fmt(MESSAGES)} messages)`,
    );
  }
  console.log(
    `spans exported  ${fmt(receiver.spans() / ROUNDS)} per round (a producer run and its consumer runs)`,
  );
}

/** The group's join and the first connections, outside the timed runs. */
async function warmUp(env: StreamingEnv): Promise<void> {
  await env.produce({ count: OFF_THREAD_MIN });
  for (let consumed = 0; consumed < OFF_THREAD_MIN; )
    consumed += (await env.consume({ batchSize: OFF_THREAD_MIN, maxWait: 3_000 })).consumed as number;
}

async function measure(env: StreamingEnv): Promise<Round> {
  const cpu0 = cpuMs();
  const produced = await asRun('producer', () => env.produce({ count: MESSAGES }));
  const cpu1 = cpuMs();
  let consumed = 0;
  let consumeMs = 0;
  while (consumed < MESSAGES) {
    const result = await asRun('consumer', () => env.consume({ batchSize: MESSAGES, maxWait: 1_000 }));
    consumed += result.consumed as number;
    consumeMs += result.durationMs as number;
  }
  return {
    produceMs: produced.durationMs as number,
    produceCpuMs: cpu1 - cpu0,
    consumeMs,
    consumeCpuMs: cpuMs() - cpu1,
  };
}

/** The run under a run span when traces are on, as runJob runs it. */
function asRun<T>(schedule: string, work: () => Promise<T>): Promise<T> {
  const traces = tracing();
  if (!traces) return work();
  const now = new Date();
  const run: RunFacts = {
    schedule,
    runId: schedule,
    attempt: 1,
    jobType: schedule,
    window: { from: now, to: now },
  };
  return traces.run(run, work, () => 'failed');
}

/** This process's CPU time (user + system, ms), its record and transaction threads included. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

/** An OTLP/HTTP receiver that counts the spans of each JSON export and keeps nothing else. */
async function spanCounter(): Promise<{ server: http.Server; url: string; spans(): number }> {
  let spans = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[];
      };
      for (const resource of body.resourceSpans ?? [])
        for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}`, spans: () => spans };
}
