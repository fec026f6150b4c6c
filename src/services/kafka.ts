import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config';
import { kafkaReady } from '../health/probes';
import type { Logger } from '../log/logger';
import { projectPath } from '../paths';
import { type LocalService, splitHostPort } from './local-service';
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

/** Single-node KRaft settings; the controller listens on the broker port + 1. */
function serverProperties(host: string, port: number, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${port + 1}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${port + 1}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    'num.partitions=3',
    // Topics are declared in schedules.yaml; a typo must fail, not create a topic.
    'auto.create.topics.enable=false',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // Group joins in tests and short runs should not wait the default 3 s.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
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
    const java = findExecutable('java');
    if (!java) throw missingTool('Kafka', 'java', 'apt-get install openjdk-17-jre-headless');
    const jarsDir = await ensureKafkaJars(config, log);
    const { host, port } = this.address(config);
    const home = path.join(config.home, 'kafka');
    const dataDir = path.join(home, 'data');
    const logsDir = path.join(home, 'logs');
    const propsFile = path.join(home, 'server.properties');
    const log4jFile = path.join(home, 'log4j.properties');
    const logFile = path.join(logsDir, 'server.log');
    fs.mkdirSync(logsDir, { recursive: true });
    fs.writeFileSync(propsFile, serverProperties(host, port, dataDir));
    fs.writeFileSync(log4jFile, log4jProperties(logsDir));

    const classpath = ['-cp', path.join(jarsDir, '*'), `-Dlog4j.configuration=file:${log4jFile}`];
    if (!fs.existsSync(path.join(dataDir, 'meta.properties'))) {
      const clusterId = newClusterId();
      await runChecked(
        java,
        [...classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', propsFile],
        'Formatting Kafka storage',
      );
    }
    const jvm = [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${logsDir}`,
    ];
    const pid = spawnDetached(
      java,
      [...jvm, ...classpath, 'kafka.Kafka', propsFile],
      path.join(logsDir, 'stdout.log'),
    );
    await waitForServer(pid, () => kafkaReady(config), `Kafka on ${host}:${port}`, logFile, 90_000);
    return { pid, address: `${host}:${port}`, dataDir, logFile, startedAt: new Date().toISOString() };
  },

  stop: (started) => terminate(started.pid, 60_000),
};

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
