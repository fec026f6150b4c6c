import type { Command } from 'commander';
import { STREAMING_DEFAULTS } from '../../kafka/streaming-topics';
import { action } from '../action';

export function registerLag(program: Command): void {
  program
    .command('lag')
    .description("a consumer group's committed offset, end offset and lag per partition")
    .option('--topic <name>', 'topic', STREAMING_DEFAULTS.transactionsTopic)
    .option('--group <id>', 'consumer group', STREAMING_DEFAULTS.consumerGroup)
    .action(
      action(async ({ config }, options: { topic: string; group: string }) => {
        const [{ createKafka }, { partitionLag }] = await Promise.all([
          import('../../kafka/client'),
          import('../../kafka/lag'),
        ]);
        // Quick: a one-shot command answers or fails in seconds, not after the runs' long retries.
        const admin = createKafka(config, { quick: true }).admin();
        await admin.connect();
        try {
          const topics = (await admin.listTopics()).filter((name) => !name.startsWith('__'));
          if (!topics.includes(options.topic))
            throw new Error(
              `topic ${options.topic} does not exist; pass --topic (existing: ${topics.slice(0, 10).join(', ') || 'none'})`,
            );
          const partitions = await partitionLag(admin, options.group, options.topic);
          console.log(
            `${'partition'.padEnd(10)} ${'committed'.padStart(12)} ${'end'.padStart(12)} ${'lag'.padStart(10)}`,
          );
          for (const p of partitions)
            console.log(
              `${String(p.partition).padEnd(10)} ${(p.committed < 0 ? '-' : String(p.committed)).padStart(12)} ` +
                `${String(p.end).padStart(12)} ${String(p.lag).padStart(10)}`,
            );
          console.log(`total lag ${partitions.reduce((sum, p) => sum + p.lag, 0)} (group ${options.group})`);
          return 0;
        } finally {
          await admin.disconnect();
        }
      }),
    );
}
