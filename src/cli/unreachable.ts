import type { Config } from '../config/config';
import { isUnreachable } from '../health/unreachable';

/** host:port of a URL, with the protocol's default port. */
function addressOf(url: string, defaultPort: number): string {
  const { hostname, port } = new URL(url);
  return `${hostname}:${port || defaultPort}`;
}

/**
 * A CLI command that cannot reach a service says which one, where, and the two ways out, in one
 * line, instead of a driver's bare `connect ECONNREFUSED 127.0.0.1:6379`.
 */
export function explainUnreachable(error: Error, config: Config): string | undefined {
  const cause = error.cause as Error | undefined;
  const text = `${error.message} ${cause?.message ?? ''}`;
  const unreachable = isUnreachable(error) || (cause !== undefined && isUnreachable(cause));
  if (!unreachable && error.name !== 'KafkaJSNumberOfRetriesExceeded') return undefined;
  const sentinels = config.redisSentinel?.sentinels.map(({ host, port }) => `${host}:${port}`);
  const services: [name: string, address: string[], variable: string][] = [
    sentinels
      ? ['Redis Sentinel', sentinels, 'REDIS_SENTINELS']
      : ['Redis', [addressOf(config.redisUrl, 6379)], 'REDIS_URL'],
    ['PostgreSQL', [addressOf(config.databaseUrl, 5432)], 'DATABASE_URL'],
    ['Kafka', config.kafka.brokers, 'KAFKA_BROKERS'],
  ];
  const isKafka = /KafkaJS/.test(error.name);
  const match = services.find(([name, addresses]) =>
    isKafka
      ? name === 'Kafka'
      : addresses.some((address) => text.includes(address)) ||
        // ioredis names no address when every Sentinel failed.
        (name === 'Redis Sentinel' && text.includes('sentinels are unreachable')),
  );
  if (!match) return undefined;
  const [name, addresses, variable] = match;
  const reason = error.message.split('\n')[0];
  return `cannot reach ${name} at ${addresses.join(',')} (${variable}): ${reason}. Start it (\`tickflow services up\`) or fix ${variable}`;
}
