/**
 * One job's timed bench section in a process of its own (started by bench/job-child.ts): argv[2]
 * is a ChildRequest (JSON); the figures and this process's peak RSS go back over IPC.
 */
import { consumerBatchJob } from '../jobs/consumer-batch';
import { producerBatchJob } from '../jobs/producer-batch';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import { OFF_THREAD_MIN } from '../src/producer/record-stream';
import type { JobContext } from '../src/runtime/job';
import { Resources } from '../src/runtime/resources';
import { benchContext } from './bench-context';
import {
  type ChildRequest,
  CONSUMER_MAX_WAIT_MS,
  type ConsumerFigures,
  EMPTY_RUN_WAIT_MS,
  type ProducerFigures,
} from './job-child';
import { serviceCpu, serviceCpuSince } from './service-cpu';

/**
 * A run of the producer before the timed one, as in a warm worker: it connects, creates the topic,
 * and takes the same path as the timed run (its records made on a thread), so that path is compiled.
 */
const WARM_UP_MESSAGES = OFF_THREAD_MIN;

/** This process's CPU time so far (user + system, ms): next to wall time it shows who waits on whom. */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

async function measureProducer(ctx: JobContext, request: ChildRequest): Promise<ProducerFigures> {
  const run = (count: number, seed: number, topic = request.params.topic) =>
    producerBatchJob.run(ctx, producerBatchJob.params.parse({ ...request.params, topic, count, seed }));
  await run(WARM_UP_MESSAGES, 1, request.warmUpTopic);
  const cpuBefore = cpuMs();
  const servicesBefore = serviceCpu();
  const result = await run(request.messages, 2);
  const serviceCpuMs = serviceCpuSince(servicesBefore);
  return {
    produced: result.produced as number,
    bytes: result.bytes as number,
    requests: result.requests as number,
    durationMs: result.durationMs as number,
    cpuMs: cpuMs() - cpuBefore,
    serviceCpuMs,
  };
}

async function measureConsumer(ctx: JobContext, request: ChildRequest): Promise<ConsumerFigures> {
  const run = (batchSize: number, maxWait: number) =>
    consumerBatchJob.run(ctx, consumerBatchJob.params.parse({ ...request.params, batchSize, maxWait }));
  // Join the group first (once per process in production), then time only the warm runs.
  const joined = (await run(1, 0)).consumed as number;
  let consumed = 0;
  let durationMs = 0;
  let runs = 0;
  const cpuBefore = cpuMs();
  const servicesBefore = serviceCpu();
  while (joined + consumed < request.messages) {
    const result = await run(request.messages - joined - consumed, CONSUMER_MAX_WAIT_MS);
    if (result.consumed === 0) break;
    consumed += result.consumed as number;
    durationMs += result.durationMs as number;
    runs++;
  }
  const cpuSpent = cpuMs() - cpuBefore;
  const serviceCpuMs = serviceCpuSince(servicesBefore);
  const emptyRunOverheadsMs: number[] = [];
  for (let i = 0; i < 5; i++)
    emptyRunOverheadsMs.push(
      ((await run(1_000, EMPTY_RUN_WAIT_MS)).durationMs as number) - EMPTY_RUN_WAIT_MS,
    );
  return { consumed, runs, durationMs, cpuMs: cpuSpent, serviceCpuMs, emptyRunOverheadsMs };
}

const startRssBytes = process.memoryUsage.rss();
const request = JSON.parse(process.argv[2] ?? '{}') as ChildRequest;
const config = loadConfig();
const log = createLogger(config.logLevel, `bench-${request.job}`);
const resources = new Resources(config, log);
try {
  const ctx = benchContext(resources, log);
  const figures =
    request.job === 'producer-batch'
      ? await measureProducer(ctx, request)
      : await measureConsumer(ctx, request);
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  await new Promise<void>((resolve, reject) =>
    process.send?.({ figures, peakRssBytes, startRssBytes }, (error: Error | null) =>
      error ? reject(error) : resolve(),
    ),
  );
} finally {
  await resources.close();
}
process.exit(0);
