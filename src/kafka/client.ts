import { Kafka, logLevel } from 'kafkajs';
import type { Config } from '../config/config';

/** One kafkajs client per process; kafkajs's own logging stays quiet (tickflow logs what matters). */
export function createKafka(config: Pick<Config, 'kafka'>, options: { quick?: boolean } = {}): Kafka {
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    logLevel: logLevel.NOTHING,
    // A probe wants a fast no; a worker wants to ride out a broker restart.
    connectionTimeout: options.quick ? 1_000 : 3_000,
    retry: options.quick ? { retries: 0 } : { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  });
}
