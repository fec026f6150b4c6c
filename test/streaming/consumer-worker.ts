/**
 * A worker process for the crash and multi-process tests: runs consumer-batch in a loop with the
 * params in argv[2] (JSON) and prints one JSON line per run. SIGTERM ends it after the current run.
 */
import { consumerBatchJob } from '../../jobs/consumer-batch';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/log/logger';
import { jobContext } from '../../src/runtime/job-context';
import { Resources } from '../../src/runtime/resources';

const config = loadConfig();
const log = createLogger(config.logLevel, 'consumer-worker');
const params = consumerBatchJob.params.parse(JSON.parse(process.argv[2] ?? '{}'));
const resources = new Resources(config, log);
let stopping = false;
process.on('SIGTERM', () => {
  stopping = true;
});

while (!stopping) {
  const ctx = jobContext(resources, {
    signal: new AbortController().signal,
    log,
    schedule: 'test',
    runId: 'w',
    attempt: 1,
    window: { from: new Date(), to: new Date() },
  });
  const result = await consumerBatchJob.run(ctx, params);
  const consumer = await resources.kafka.runConsumer(params.topic, params.group);
  process.stdout.write(
    `${JSON.stringify({ event: 'run', pid: process.pid, result, partitions: consumer.partitions })}\n`,
  );
}
await resources.close();
process.exit(0);
