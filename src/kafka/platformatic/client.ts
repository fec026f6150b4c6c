import type { BaseOptions } from '@platformatic/kafka';
import type { Config } from '../../config/config';

/**
 * What every @platformatic/kafka client of this process shares: brokers, client id, and the same
 * patience as kafkajs's (client.ts): a worker rides out a broker restart (8 retries, backing off to
 * 5 s), a probe wants a fast no.
 */
export function platformaticOptions(
  config: Pick<Config, 'kafka'>,
  options: { quick?: boolean } = {},
): BaseOptions {
  return {
    clientId: config.kafka.clientId,
    bootstrapBrokers: config.kafka.brokers,
    connectTimeout: options.quick ? 1_000 : 3_000,
    retries: options.quick ? 0 : 8,
    retryDelay: (_client, _operation, attempt) => Math.min(100 * 2 ** (attempt - 1), 5_000),
  };
}
