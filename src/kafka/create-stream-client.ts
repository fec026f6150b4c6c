import type { Config } from '../config/config';
import type { Logger } from '../log/logger';
import { KafkaStreams } from './kafka-streams';
import { PlatformaticStreams } from './platformatic/platformatic-streams';
import type { StreamClient } from './stream-client';

/** A StreamClient its owner closes at exit. */
export type ClosableStreamClient = StreamClient & { close(): Promise<void> };

/** The StreamClient on the library KAFKA_CLIENT names (docs/streaming.md, "Choosing the client"). */
export function createStreamClient(config: Pick<Config, 'kafka'>, log: Logger): ClosableStreamClient {
  return config.kafka.client === 'kafkajs'
    ? new KafkaStreams(config, log)
    : new PlatformaticStreams(config, log);
}
