import fs from 'node:fs';
import path from 'node:path';
import { redisReady } from '../health/probes';
import { type LocalService, type StartedService, urlHostPort } from './local-service';
import { findExecutable, missingTool, spawnDetached, terminate, waitForServer } from './process';

/**
 * Redis checks timers hz times a second. Runs start on time at any hz (the workers take each run at
 * its due time themselves, see src/worker/due-fetcher.ts); the launcher keeps ~10 ms precision for
 * whatever else waits on Redis's timer (key expiry: run locks, the stalled check's guard).
 */
const REDIS_HZ = 100;

/** Redis as the docker-compose file runs it: AOF on, never evict (BullMQ must not lose keys). */
export const redisService: LocalService = {
  name: 'redis',
  commandMarker: 'redis-server',
  variable: 'REDIS_URL',
  address: (config) => urlHostPort(config.redisUrl, 6379),
  ready: (config) => redisReady({ redisUrl: config.redisUrl }),

  async start(config) {
    const { host, port } = this.address(config);
    return startRedisServer({ host, port, dataDir: path.join(config.home, 'redis') });
  },

  stop: (started) => terminate(started.pid),
};

/** Starts redis-server detached as docker-compose runs it; `extra` arguments follow (e.g. --replicaof). */
export async function startRedisServer(
  { host, port, dataDir }: { host: string; port: number; dataDir: string },
  extra: string[] = [],
): Promise<StartedService> {
  const binary = findExecutable('redis-server');
  if (!binary) throw missingTool('Redis', 'redis-server', 'apt-get install redis-server');
  const logFile = path.join(dataDir, 'redis.log');
  fs.mkdirSync(dataDir, { recursive: true });
  const args = ['--bind', host, '--port', String(port), '--dir', dataDir, '--appendonly', 'yes'];
  args.push('--maxmemory-policy', 'noeviction', '--save', '', '--daemonize', 'no');
  // Blocked-client timeouts (BullMQ's wait for the next due run) are checked hz times a second.
  args.push('--hz', String(REDIS_HZ), ...extra);
  const pid = spawnDetached(binary, args, logFile);
  const redisUrl = `redis://${host.includes(':') ? `[${host}]` : host}:${port}`;
  await waitForServer(pid, () => redisReady({ redisUrl }), `Redis on ${host}:${port}`, logFile, 20_000);
  return { pid, address: `${host}:${port}`, dataDir, logFile, startedAt: new Date().toISOString() };
}
