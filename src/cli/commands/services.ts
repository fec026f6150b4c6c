import { Argument, type Command, InvalidArgumentError, Option } from 'commander';
import type { Config } from '../../config/config';
import type { ServiceName } from '../../services/local-service';
import type { ServiceStatus } from '../../services/services';
import { action } from '../action';

const names: ServiceName[] = ['redis', 'postgres', 'kafka'];

interface LaunchOptions {
  kafkaNodes?: number;
  redisSentinel?: boolean;
}

function printTable(statuses: ServiceStatus[]): void {
  for (const s of statuses) {
    const state = s.ready ? 'ready' : 'down';
    const owner =
      s.owner === 'started' ? `started by tickflow (pid ${s.pid})` : s.owner === 'external' ? 'external' : '';
    console.log(`${s.name.padEnd(9)} ${s.address.padEnd(16)} ${state.padEnd(6)} ${owner}`);
  }
}

/** The flags are the variables' shorthand: the configuration is read again with them filled in. */
async function withLaunchOptions(config: Config, options: LaunchOptions): Promise<Config> {
  if (!options.kafkaNodes && !options.redisSentinel) return config;
  // Loaded here, not at the top: `tickflow --help` must not pay for zod.
  const { LOCAL_SENTINEL_DEFAULTS, loadConfig } = await import('../../config/config');
  const env = { ...process.env };
  if (options.kafkaNodes) env.KAFKA_NODES = String(options.kafkaNodes);
  if (options.redisSentinel) {
    for (const [variable, value] of Object.entries(LOCAL_SENTINEL_DEFAULTS)) env[variable] ??= value;
  }
  return loadConfig(env);
}

/** What the other processes (scheduler, workers, CLI) need in their environment to use what `up` started. */
function printEnvironment(config: Config): void {
  const variables = [
    ...(config.kafka.nodes > 1
      ? [`KAFKA_NODES=${config.kafka.nodes}`, `KAFKA_BROKERS=${config.kafka.brokers.join(',')}`]
      : []),
    ...(config.redisSentinel
      ? [
          `REDIS_URL=${config.redisUrl}`,
          `REDIS_SENTINELS=${config.redisSentinel.sentinels.map((s) => `${s.host}:${s.port}`).join(',')}`,
          `REDIS_SENTINEL_NAME=${config.redisSentinel.name}`,
        ]
      : []),
  ];
  if (variables.length) console.log(`\nfor the other processes:\nexport ${variables.join(' ')}`);
}

function nodeCount(value: string): number {
  const nodes = Number(value);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) {
    throw new InvalidArgumentError('expected a whole number of nodes from 1 to 9, e.g. 3');
  }
  return nodes;
}

export function registerServices(program: Command): void {
  program
    .command('services')
    .description('start, stop or show the local Kafka, Redis and PostgreSQL')
    .addArgument(new Argument('<action>', 'what to do').choices(['up', 'down', 'status']))
    .addArgument(new Argument('[service...]', 'only these services').choices(names))
    .addOption(
      new Option(
        '--kafka-nodes <n>',
        'a KRaft cluster of n nodes (KAFKA_NODES; default ports 19092, 19094, …)',
      ).argParser(nodeCount),
    )
    .option(
      '--redis-sentinel',
      'Redis with a replica and three Sentinels (REDIS_SENTINELS; default 16379 + 26379–26381)',
    )
    .action(
      action(
        async (
          { config: fromEnv, log },
          verb: 'up' | 'down' | 'status',
          only: ServiceName[],
          options: LaunchOptions,
        ) => {
          const { servicesDown, servicesStatus, servicesUp } = await import('../../services/services');
          const config = await withLaunchOptions(fromEnv, options);
          const selected = only.length ? only : undefined;
          if (verb === 'up') {
            printTable(await servicesUp(config, log, selected));
            printEnvironment(config);
          }
          if (verb === 'down') {
            const stopped = await servicesDown(config, log, selected);
            console.log(
              stopped.length
                ? `stopped: ${stopped.join(', ')}`
                : 'nothing to stop (tickflow started no service)',
            );
          }
          if (verb === 'status') {
            const statuses = await servicesStatus(config, selected);
            printTable(statuses);
            return statuses.every((s) => s.ready) ? 0 : 1;
          }
          return 0;
        },
      ),
    );
}
