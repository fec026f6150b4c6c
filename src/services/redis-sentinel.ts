import fs from 'node:fs';
import path from 'node:path';
import type { Config, RedisSentinel } from '../config/config';
import { redisConnection } from '../config/redis-connection';
import { redisReady } from '../health/probes';
import type { LocalService, StartedService } from './local-service';
import { urlHostPort } from './local-service';
import {
  findExecutable,
  missingTool,
  ServiceUnavailableError,
  spawnDetached,
  terminate,
  waitForServer,
} from './process';
import { startRedisServer } from './redis';

/** A master is declared down after this long without an answer (Sentinel's default is 30 s). */
const DOWN_AFTER_MS = 2_000;

/** The layout `services up` starts: the master at REDIS_URL, its replica on the next port, the Sentinels. */
export function sentinelLayout(config: Config) {
  const sentinel = config.redisSentinel as RedisSentinel;
  const master = urlHostPort(config.redisUrl, 6379);
  const home = path.join(config.home, 'redis-sentinel');
  return {
    name: sentinel.name,
    master: { ...master, dataDir: path.join(home, 'master') },
    replica: { host: master.host, port: master.port + 1, dataDir: path.join(home, 'replica') },
    sentinels: sentinel.sentinels.map((address, index) => ({
      ...address,
      dataDir: path.join(home, `sentinel-${index + 1}`),
    })),
    /** A majority of the Sentinels must agree that the master is down before one promotes the replica. */
    quorum: Math.floor(sentinel.sentinels.length / 2) + 1,
  };
}

/** Sentinel rewrites its config file (what it learnt of replicas and peers), so each gets its own. */
function sentinelConf(layout: ReturnType<typeof sentinelLayout>, index: number): string {
  const { host, port, dataDir } = layout.sentinels[index] as (typeof layout.sentinels)[number];
  const { name, master, quorum } = layout;
  return [
    `bind ${host}`,
    `port ${port}`,
    `dir ${dataDir}`,
    `sentinel monitor ${name} ${master.host} ${master.port} ${quorum}`,
    `sentinel down-after-milliseconds ${name} ${DOWN_AFTER_MS}`,
    `sentinel failover-timeout ${name} 10000`,
    `sentinel parallel-syncs ${name} 1`,
    '',
  ].join('\n');
}

async function startSentinel(
  layout: ReturnType<typeof sentinelLayout>,
  index: number,
): Promise<StartedService> {
  const binary = findExecutable('redis-server');
  if (!binary) throw missingTool('Redis Sentinel', 'redis-server', 'apt-get install redis-server');
  const { host, port, dataDir } = layout.sentinels[index] as (typeof layout.sentinels)[number];
  const confFile = path.join(dataDir, 'sentinel.conf');
  const logFile = path.join(dataDir, 'sentinel.log');
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(confFile)) fs.writeFileSync(confFile, sentinelConf(layout, index));
  // Debian's redis-server is also Sentinel: `redis-server <conf> --sentinel`.
  const pid = spawnDetached(binary, [confFile, '--sentinel'], logFile);
  const redisUrl = `redis://${host}:${port}`;
  await waitForServer(
    pid,
    () => redisReady({ redisUrl }),
    `Redis Sentinel on ${host}:${port}`,
    logFile,
    20_000,
  );
  return { pid, address: `${host}:${port}`, dataDir, logFile, startedAt: new Date().toISOString() };
}

/** A SENTINEL REPLICAS / SENTINELS entry (flat name, value pairs) that is not down or disconnected. */
function isUp(entry: string[]): boolean {
  const flags = entry[entry.indexOf('flags') + 1] ?? '';
  return !/s_down|o_down|disconnected/.test(flags);
}

/**
 * Failover is possible once every Sentinel knows the replica and the other Sentinels (they learn both
 * within seconds: replicas from the master's INFO, peers from its hello channel), and the master answers.
 */
async function failoverReady(config: Config): Promise<boolean> {
  const layout = sentinelLayout(config);
  const answers = await Promise.all(
    layout.sentinels.map(async ({ host, port }) => {
      const sentinel = redisConnection(
        { redisUrl: `redis://${host}:${port}` },
        { lazyConnect: true, connectTimeout: 1_000, maxRetriesPerRequest: 0, retryStrategy: () => null },
      );
      sentinel.on('error', () => {});
      try {
        await sentinel.connect();
        const replicas = (await sentinel.call('SENTINEL', 'REPLICAS', layout.name)) as string[][];
        const peers = (await sentinel.call('SENTINEL', 'SENTINELS', layout.name)) as string[][];
        // After a failover the old master stays listed as a replica, down: only a live one counts.
        return replicas.some(isUp) && peers.filter(isUp).length >= layout.sentinels.length - 1;
      } catch {
        return false;
      } finally {
        sentinel.disconnect();
      }
    }),
  );
  return answers.every(Boolean) && (await redisReady(config));
}

/**
 * A Redis already answering where the master or its replica should start is someone else's (the
 * single Redis on 6379, say): a replica of it and Sentinels watching it are the last thing wanted.
 */
async function refuseTaken(servers: { host: string; port: number }[]): Promise<void> {
  for (const { host, port } of servers) {
    if (await redisReady({ redisUrl: `redis://${host}:${port}` })) {
      throw new ServiceUnavailableError(
        `A Redis already answers at ${host}:${port}, where the Sentinel set's ${port === servers[0]?.port ? 'master' : 'replica'} should start. ` +
          'Point REDIS_URL at a free port for the master (its replica takes the next one), e.g. redis://127.0.0.1:16379.',
      );
    }
  }
}

/**
 * Redis as BullMQ documents high availability (REDIS_SENTINELS set, `--redis-sentinel`): a master at
 * REDIS_URL, one replica on the next port and the Sentinels, each with its own folder. When the
 * master dies, the Sentinels promote the replica and every tickflow process follows (redis-connection.ts).
 */
export const redisSentinelService: LocalService = {
  name: 'redis',
  stateKey: 'redis-sentinel',
  commandMarker: 'redis-server',
  variable: 'REDIS_SENTINELS',
  address: (config) => sentinelLayout(config).sentinels[0] as { host: string; port: number },
  ready: failoverReady,

  async start(config) {
    const layout = sentinelLayout(config);
    await refuseTaken([layout.master, layout.replica]);
    const master = await startRedisServer(layout.master);
    const members: StartedService[] = [];
    try {
      const { host, port } = layout.master;
      members.push(await startRedisServer(layout.replica, ['--replicaof', host, String(port)]));
      for (const index of layout.sentinels.keys()) members.push(await startSentinel(layout, index));
      await waitForServer(
        undefined,
        () => failoverReady(config),
        'Redis Sentinel failover',
        master.logFile,
        30_000,
      );
    } catch (error) {
      await Promise.all([master, ...members].map((started) => terminate(started.pid)));
      throw error;
    }
    return { ...master, members };
  },

  async stop(started) {
    // Sentinels first: with the master gone first they would promote the replica on the way down.
    const all = [started, ...(started.members ?? [])].reverse();
    for (const process of all) await terminate(process.pid);
  },
};
