import type { Config } from '../config/config';
import type { Logger } from '../log/logger';
import { KafkaStreams } from './kafka-streams';
import type { StreamClient } from './stream-client';

/** A StreamClient its owner closes at exit. */
export type ClosableStreamClient = StreamClient & { close(): Promise<void> };

/** The StreamClient on the library KAFKA_CLIENT names (docs/streaming.md, "Choosing the client"). */
export function createStreamClient(config: Pick<Config, 'kafka'>, log: Logger): ClosableStreamClient {
  return config.kafka.client === 'kafkajs'
    ? new KafkaStreams(config, log)
    : platformaticOnFirstUse(config, log);
}

/**
 * @platformatic/kafka adds ~70 MB to a process's RSS once imported: it is loaded at the first call,
 * so a process on kafkajs (the default) never pays for it.
 */
function platformaticOnFirstUse(config: Pick<Config, 'kafka'>, log: Logger): ClosableStreamClient {
  let loading: Promise<ClosableStreamClient> | undefined;
  const client = () =>
    (loading ??= import('./platformatic/platformatic-streams').then(
      ({ PlatformaticStreams }) => new PlatformaticStreams(config, log),
    ));
  return {
    ensureTopics: async (topics) => (await client()).ensureTopics(topics),
    send: async (topic, records, signal) => (await client()).send(topic, records, signal),
    sendDeadLetters: async (topic, inputs, options) =>
      (await client()).sendDeadLetters(topic, inputs, options),
    batchSender: async (topic, signal) => (await client()).batchSender(topic, signal),
    runConsumer: async (topic, group) => (await client()).runConsumer(topic, group),
    partitionLag: async (group, topic) => (await client()).partitionLag(group, topic),
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}
