import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config';
import { kafkaReady } from '../health/probes';
import type { Logger } from '../log/logger';
import { projectPath } from '../paths';
import { type LocalService, type StartedService, splitHostPort } from './local-service';
import { findExecutable, missingTool, runChecked, spawnDetached, terminate, waitForServer } from './process';

/** Keep in step with docker-compose.yml (apache/kafka image tag). */
export const KAFKA_VERSION = '3.9.1';

/** A set of Kafka jars fetched by one Maven pom into `<cacheDir>/<name>-<KAFKA_VERSION>`. */
export interface KafkaJars {
  name: string;
  pom: string;
}

/** The broker's jars (`kafka.Kafka`); the bench fetches Kafka's tools the same way. */
const BROKER_JARS: KafkaJars = { name: 'kafka', pom: projectPath('src/services/kafka-pom.xml') };

/** Downloads Kafka's jars from Maven Central once; later starts reuse the cache. */
export async function ensureKafkaJars(
  config: Config,
  log: Logger,
  { name, pom }: KafkaJars = BROKER_JARS,
): Promise<string> {
  const jarsDir = path.join(config.cacheDir, `${name}-${KAFKA_VERSION}`);
  const marker = path.join(jarsDir, '.complete');
  if (fs.existsSync(marker)) return jarsDir;
  const mvn = findExecutable('mvn');
  if (!mvn) throw missingTool('Kafka', 'mvn', 'apt-get install maven, used once to fetch the Kafka jars');
  log.info({ jarsDir }, `downloading ${name} ${KAFKA_VERSION} jars from Maven Central (first use only)`);
  await runChecked(
    mvn,
    [
      '-q',
      '-B',
      '-f',
      pom,
      `-Dkafka.version=${KAFKA_VERSION}`,
      'dependency:copy-dependencies',
      `-DoutputDirectory=${jarsDir}`,
    ],
    'Fetching the Kafka jars with Maven',
  );
  fs.writeFileSync(marker, new Date().toISOString());
  return jarsDir;
}

/** One KRaft node of `voters` (node ids 1…n, each broker and controller); the controller listens on its broker port + 1. */
export interface KafkaNode {
  id: number;
  host: string;
  port: number;
  dataDir: string;
}

/** Each node is broker and controller; with several, internal topics are replicated like the file's (min ISR n − 1). */
export function serverProperties(node: KafkaNode, voters: KafkaNode[]): string {
  const replicas = Math.min(3, voters.length);
  const minInSync = Math.max(1, replicas - 1);
  return [
    'process.roles=broker,controller',
    `node.id=${node.id}`,
    `controller.quorum.voters=${voters.map((voter) => `${voter.id}@${voter.host}:${voter.port + 1}`).join(',')}`,
    `listeners=PLAINTEXT://${node.host}:${node.port},CONTROLLER://${node.host}:${node.port + 1}`,
    `advertised.listeners=PLAINTEXT://${node.host}:${node.port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${node.dataDir}`,
    'num.partitions=3',
    // Topics are declared in schedules.yaml; a typo must fail, not create a topic.
    'auto.create.topics.enable=false',
    `offsets.topic.replication.factor=${replicas}`,
    'offsets.topic.num.partitions=10',
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${minInSync}`,
    // Group joins in tests and short runs should not wait the default 3 s.
    'group.initial.rebalance.delay.ms=0',
    ...(voters.length > 1 ? clusterProperties(replicas, minInSync) : []),
    '',
  ].join('\n');
}

/** A cluster on one small machine: few threads per node, and a dead node noticed in seconds. */
function clusterProperties(replicas: number, minInSync: number): string[] {
  return [
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${minInSync}`,
    'num.network.threads=2',
    'num.io.threads=2',
    'num.replica.fetchers=1',
    'background.threads=2',
    // The controller fences a broker that stops heartbeating after this long (default 9 s).
    'broker.session.timeout.ms=6000',
    'broker.heartbeat.interval.ms=1000',
  ];
}

const log4jProperties = (logsDir: string) =>
  [
    'log4j.rootLogger=WARN, file',
    'log4j.logger.kafka=INFO',
    'log4j.logger.org.apache.kafka=WARN',
    'log4j.appender.file=org.apache.log4j.RollingFileAppender',
    `log4j.appender.file.File=${path.join(logsDir, 'server.log')}`,
    'log4j.appender.file.MaxFileSize=10MB',
    'log4j.appender.file.MaxBackupIndex=2',
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    '',
  ].join('\n');

export const kafkaService: LocalService = {
  name: 'kafka',
  commandMarker: 'kafka.Kafka',
  variable: 'KAFKA_BROKERS',
  address: (config) => splitHostPort(config.kafka.brokers[0] ?? '127.0.0.1:9092'),
  ready: (config) => kafkaReady(config),

  async start(config, log) {
    const { host, port } = this.address(config);
    const node = { id: 1, host, port, dataDir: path.join(config.home, 'kafka', 'data') };
    const clusterId = newClusterId();
    return startKafkaNode(config, log, {
      node,
      voters: [node],
      clusterId,
      home: path.join(config.home, 'kafka'),
    });
  },

  stop: (started) => terminate(started.pid, 60_000),
};

export interface KafkaNodeStart {
  node: KafkaNode;
  voters: KafkaNode[];
  /** Used to format a fresh data folder; every node of a cluster must share it. */
  clusterId: string;
  /** The node's folder: its properties, logs and (as node.dataDir) data. */
  home: string;
  /** JVM heap; a cluster's nodes get less so that three fit on a small machine. */
  heap?: { initial: string; max: string };
  /** What answers once the node is up (the cluster's readiness waits for every node). */
  ready?: () => Promise<boolean>;
}

/** Formats the node's storage on first use, starts it detached, and waits until `ready`. */
export async function startKafkaNode(
  config: Config,
  log: Logger,
  { node, voters, clusterId, home, heap = { initial: '256m', max: '1g' }, ready }: KafkaNodeStart,
): Promise<StartedService> {
  const java = findExecutable('java');
  if (!java) throw missingTool('Kafka', 'java', 'apt-get install openjdk-17-jre-headless');
  const jarsDir = await ensureKafkaJars(config, log);
  const logsDir = path.join(home, 'logs');
  const propsFile = path.join(home, 'server.properties');
  const log4jFile = path.join(home, 'log4j.properties');
  const logFile = path.join(logsDir, 'server.log');
  fs.mkdirSync(logsDir, { recursive: true });
  fs.writeFileSync(propsFile, serverProperties(node, voters));
  fs.writeFileSync(log4jFile, log4jProperties(logsDir));

  const classpath = ['-cp', path.join(jarsDir, '*'), `-Dlog4j.configuration=file:${log4jFile}`];
  if (!fs.existsSync(path.join(node.dataDir, 'meta.properties'))) {
    await runChecked(
      java,
      [...classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile],
      'Formatting Kafka storage',
    );
  }
  const jvm = [
    `-Xms${heap.initial}`,
    `-Xmx${heap.max}`,
    '-XX:+UseG1GC',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${logsDir}`,
  ];
  const pid = spawnDetached(
    java,
    [...jvm, ...classpath, 'kafka.Kafka', propsFile],
    path.join(logsDir, 'stdout.log'),
  );
  const address = `${node.host}:${node.port}`;
  const answers = ready ?? (() => kafkaReady({ kafka: { ...config.kafka, brokers: [address] } }));
  // A node that never answers is stopped, not left running unrecorded (`down` would not know it).
  await waitForServer(pid, answers, `Kafka node ${node.id} on ${address}`, logFile, 90_000).catch(
    async (error) => {
      await terminate(pid, 10_000);
      throw error;
    },
  );
  return { pid, address, dataDir: node.dataDir, logFile, startedAt: new Date().toISOString() };
}

/**
 * A KRaft cluster id as Kafka makes them: 16 random bytes in base64url, but never starting with
 * `-`, which the storage tool would read as an option (Kafka's own Uuid.randomUuid skips those too).
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
