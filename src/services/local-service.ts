import type { Config } from '../config/config';
import type { Logger } from '../log/logger';

export type ServiceName = 'kafka' | 'redis' | 'postgres';

/** What `up` records about a server it started, so that `down` stops exactly that one. */
export interface StartedService {
  pid: number;
  address: string;
  dataDir: string;
  logFile: string;
  startedAt: string;
  /** The service's other processes (a cluster's other nodes, a replica and Sentinels): stopped with it. */
  members?: StartedService[];
}

/** One implementation per server; `services.ts` drives all three the same way. */
export interface LocalService {
  name: ServiceName;
  /** Where services.json records it; a cluster's differs from the single server's, so both can be known. */
  stateKey?: string;
  /** The environment variable that configures its address (for error messages). */
  variable: string;
  /** Part of the server's command line, to tell our process from a recycled pid. */
  commandMarker: string;
  address(config: Config): { host: string; port: number };
  ready(config: Config): Promise<boolean>;
  start(config: Config, log: Logger): Promise<StartedService>;
  stop(started: StartedService): Promise<void>;
}

export function splitHostPort(hostPort: string): { host: string; port: number } {
  const at = hostPort.lastIndexOf(':');
  return { host: hostPort.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(hostPort.slice(at + 1)) };
}

export function urlHostPort(url: string, defaultPort: number): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || defaultPort) };
}
