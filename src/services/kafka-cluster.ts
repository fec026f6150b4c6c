import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config';
import { kafkaReady } from '../health/probes';
import type { Logger } from '../log/logger';
import { type KafkaNode, type KafkaNodeStart, newClusterId, startKafkaNode } from './kafka';
import { type LocalService, type StartedService, splitHostPort } from './local-service';
import { ServiceUnavailableError, terminate } from './process';

/** Three JVMs share a small machine: each gets a small heap (the single broker keeps 1 GB). */
const NODE_HEAP = { initial: '128m', max: '384m' };

const clusterHome = (config: Config) => path.join(config.home, 'kafka-cluster');

/** One node per broker in KAFKA_BROKERS, ids 1…n, each with its own data folder. */
export function clusterNodes(config: Config): KafkaNode[] {
  return config.kafka.brokers.map((broker, index) => ({
    id: index + 1,
    ...splitHostPort(broker),
    dataDir: path.join(clusterHome(config), `node-${index + 1}`, 'data'),
  }));
}

/** Every node is formatted with the same cluster id, kept beside the data so a restart finds it. */
function clusterId(config: Config): string {
  const file = path.join(clusterHome(config), 'cluster-id');
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    const id = newClusterId();
    fs.mkdirSync(clusterHome(config), { recursive: true });
    fs.writeFileSync(file, id);
    return id;
  }
}

/** How node `id` starts (also used to start one node again after it was killed). */
export function clusterNodeStart(config: Config, id: number): KafkaNodeStart {
  const voters = clusterNodes(config);
  const node = voters.find((voter) => voter.id === id);
  if (!node) throw new Error(`no Kafka node ${id}: the cluster has nodes 1 to ${voters.length}`);
  return {
    node,
    voters,
    clusterId: clusterId(config),
    home: path.dirname(node.dataDir),
    heap: NODE_HEAP,
  };
}

/**
 * A KRaft cluster on this machine (KAFKA_NODES > 1): every node broker and controller, all started at
 * once (a controller quorum needs a majority up before any broker answers), ready when every broker
 * has registered.
 */
export const kafkaClusterService: LocalService = {
  name: 'kafka',
  stateKey: 'kafka-cluster',
  commandMarker: 'kafka.Kafka',
  variable: 'KAFKA_BROKERS',
  address: (config) => splitHostPort(config.kafka.brokers[0] as string),
  ready: (config) => kafkaReady(config, config.kafka.nodes),

  async start(config: Config, log: Logger): Promise<StartedService> {
    const allRegistered = () => kafkaReady(config, config.kafka.nodes);
    const started = await Promise.allSettled(
      clusterNodes(config).map((node) =>
        startKafkaNode(config, log, { ...clusterNodeStart(config, node.id), ready: allRegistered }),
      ),
    );
    const up = started.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const failed = started.flatMap((outcome) =>
      outcome.status === 'rejected' ? [outcome.reason as Error] : [],
    );
    if (failed.length) {
      // A cluster without all its nodes is not what was asked for: stop the ones that came up.
      await Promise.all(up.map((node) => terminate(node.pid, 60_000)));
      // Every node's reason: the one that died at start explains why the others waited in vain.
      throw new ServiceUnavailableError(failed.map((error) => error.message).join('\n\n'));
    }
    const [first, ...others] = up as [StartedService, ...StartedService[]];
    return { ...first, members: others };
  },

  /**
   * All nodes at once. A broker's controlled shutdown needs the controller quorum, which goes with the
   * other nodes: the last ones would wait out a long grace. Kafka recovers its logs at start, so a
   * node still up after 20 s is killed.
   */
  async stop(started) {
    await Promise.all([started, ...(started.members ?? [])].map((node) => terminate(node.pid, 20_000)));
  },
};
