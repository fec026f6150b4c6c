import type { BaseOptions } from '@platformatic/kafka';
import type { Config } from '../../config/config';

/**
 * What every @platformatic/kafka client of this process shares: brokers, client id, and patience: a
 * worker rides out a broker restart, a probe wants a fast no. 12 retries backing off to 5 s wait about
 * 35 s: with 8 (kafkajs's count, ~16 s here) a producer run failed during the fault suite's Kafka
 * restart (17–25 s) and its retry sent its records again.
 */
export function platformaticOptions(
  config: Pick<Config, 'kafka'>,
  options: { quick?: boolean } = {},
): BaseOptions {
  return {
    clientId: config.kafka.clientId,
    bootstrapBrokers: config.kafka.brokers,
    connectTimeout: options.quick ? 1_000 : 3_000,
    retries: options.quick ? 0 : 12,
    retryDelay: (_client, _operation, attempt) => Math.min(100 * 2 ** (attempt - 1), 5_000),
  };
}
