import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../config/config';
import type { Logger } from '../log/logger';
import { kafkaService } from './kafka';
import { kafkaClusterService } from './kafka-cluster';
import type { LocalService, ServiceName, StartedService } from './local-service';
import { postgresService } from './postgres';
import { isRunning, ServiceUnavailableError } from './process';
import { redisService } from './redis';
import { redisSentinelService } from './redis-sentinel';

/** What the configuration describes: a single Kafka or a cluster (KAFKA_NODES), Redis alone or with Sentinel. */
function localServices(config: Config): LocalService[] {
  return [
    config.redisSentinel ? redisSentinelService : redisService,
    postgresService,
    config.kafka.nodes > 1 ? kafkaClusterService : kafkaService,
  ];
}

export interface ServiceStatus {
  name: ServiceName;
  address: string;
  ready: boolean;
  /** `started` when `services up` started it (and `down` will stop it), `external` otherwise. */
  owner: 'started' | 'external' | 'none';
  pid?: number;
  /** True when this very call to `servicesUp` started it. */
  startedNow?: boolean;
}

/** By stateKey: the single servers and a cluster or Sentinel set are recorded apart. */
type StateFile = Partial<Record<string, StartedService>>;

const stateKey = (service: LocalService): string => service.stateKey ?? service.name;

const stateFile = (config: Config) => path.join(config.home, 'services.json');

function readState(config: Config): StateFile {
  try {
    return JSON.parse(fs.readFileSync(stateFile(config), 'utf8')) as StateFile;
  } catch {
    return {};
  }
}

function writeState(config: Config, state: StateFile): void {
  fs.mkdirSync(config.home, { recursive: true });
  fs.writeFileSync(stateFile(config), `${JSON.stringify(state, null, 2)}\n`);
}

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '0.0.0.0']);

function pick(config: Config, only?: ServiceName[]): LocalService[] {
  const services = localServices(config);
  return only ? services.filter((service) => only.includes(service.name)) : services;
}

/**
 * Makes every service reachable: reuses one that already answers at its configured
 * address, otherwise starts it natively under `config.home`. Returns what it did.
 */
export async function servicesUp(
  config: Config,
  log: Logger,
  only?: ServiceName[],
): Promise<ServiceStatus[]> {
  const state = readState(config);
  const outcomes = await Promise.allSettled(
    pick(config, only).map(async (service): Promise<ServiceStatus> => {
      const { host, port } = service.address(config);
      const address = `${host}:${port}`;
      if (await service.ready(config)) {
        const ours = state[stateKey(service)];
        const owner = ours && runningOf(service, ours).length > 0 ? 'started' : 'external';
        log.info(
          { service: service.name, address },
          `${service.name} already running at ${address}; reusing it`,
        );
        return { name: service.name, address, ready: true, owner, pid: ours?.pid };
      }
      const partial = partlyRunning(service, state[stateKey(service)]);
      if (partial) {
        throw new ServiceUnavailableError(
          `the ${service.name} set tickflow started under ${config.home} is only partly running (${partial}), ` +
            'after a member was killed or a failover: `tickflow services down` stops the rest, then `tickflow services up` starts it afresh',
        );
      }
      if (!LOCAL_HOSTS.has(host)) {
        throw new ServiceUnavailableError(
          `${service.name} is not reachable at ${address} (${service.variable}), and tickflow only starts services on this machine. ` +
            `Start it there, or point ${service.variable} at 127.0.0.1.`,
        );
      }
      const begun = Date.now();
      const started = await service.start(config, log);
      state[stateKey(service)] = started;
      const seconds = ((Date.now() - begun) / 1000).toFixed(1);
      log.info(
        {
          service: service.name,
          address,
          pid: started.pid,
          dataDir: started.dataDir,
          logFile: started.logFile,
          seconds,
        },
        `started ${service.name} at ${address} in ${seconds}s`,
      );
      return {
        name: service.name,
        address,
        ready: true,
        owner: 'started',
        pid: started.pid,
        startedNow: true,
      };
    }),
  );
  // Record what did start even when another service failed, so `down` can still stop it.
  writeState(config, state);
  const failed = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<ServiceStatus>).value);
}

export async function servicesStatus(config: Config, only?: ServiceName[]): Promise<ServiceStatus[]> {
  const state = readState(config);
  return Promise.all(
    pick(config, only).map(async (service) => {
      const { host, port } = service.address(config);
      const ready = await service.ready(config);
      const ours = state[stateKey(service)];
      const owner = ours && runningOf(service, ours).length > 0 ? 'started' : ready ? 'external' : 'none';
      return {
        name: service.name,
        address: `${host}:${port}`,
        ready,
        owner,
        pid: ours?.pid,
      } as ServiceStatus;
    }),
  );
}

/** The processes of what `up` started that still run (a set's members too: its first may have been killed). */
function runningOf(service: LocalService, started: StartedService): StartedService[] {
  return [started, ...(started.members ?? [])].filter((each) => isRunning(each.pid, service.commandMarker));
}

/** For a set (a cluster, Redis with Sentinel) recorded but not ready: which of its processes still run, if any. */
function partlyRunning(service: LocalService, started: StartedService | undefined): string | undefined {
  if (!started?.members?.length) return undefined;
  const processes = [started, ...started.members];
  const running = runningOf(service, started);
  if (running.length === 0) return undefined;
  return `${running.length} of ${processes.length} processes: ${running.map((each) => each.address).join(', ')}`;
}

/** Every kind of local service, for `down`: it stops what was started whatever the configuration says now. */
const everyService: LocalService[] = [
  redisService,
  redisSentinelService,
  postgresService,
  kafkaService,
  kafkaClusterService,
];

/** Stops only what `servicesUp` started (a cluster or Sentinel set whole, even with a member killed); external services are left alone. */
export async function servicesDown(
  config: Config,
  log: Logger,
  only?: ServiceName[],
): Promise<ServiceName[]> {
  const state = readState(config);
  const stopped: ServiceName[] = [];
  for (const service of everyService.filter((each) => !only || only.includes(each.name))) {
    const started = state[stateKey(service)];
    if (!started) continue;
    if (runningOf(service, started).length > 0) {
      await service.stop(started);
      log.info({ service: service.name, address: started.address }, `stopped ${service.name}`);
      stopped.push(service.name);
    }
    delete state[stateKey(service)];
  }
  writeState(config, state);
  return stopped;
}

/**
 * Records a process started again for a service `up` started (a cluster node after it was killed), so
 * that `down` stops it with the rest.
 */
export function recordRestart(config: Config, key: string, restarted: StartedService): void {
  const state = readState(config);
  const service = state[key];
  if (!service)
    throw new Error(`tickflow started no ${key} under ${config.home}; nothing to record a restart against`);
  service.members = [...(service.members ?? []), restarted];
  writeState(config, state);
}
