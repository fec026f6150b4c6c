import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/config';
import { postgresReady } from '../health/probes';
import { type LocalService, type StartedService, urlHostPort } from './local-service';
import { findExecutable, missingTool, runChecked, waitForServer } from './process';

/** Debian keeps the server binaries off PATH, one folder per major version. */
function postgresBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return [];
  return fs
    .readdirSync(root)
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => path.join(root, version, 'bin'));
}

function tool(name: string): string {
  const found = findExecutable(name, postgresBinDirs());
  if (!found) throw missingTool('PostgreSQL', name, 'apt-get install postgresql');
  return found;
}

/** PostgreSQL refuses to run as root; when we are root, run its tools as the `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
  if (os.userInfo().uid !== 0) return [command, args];
  return [tool('runuser'), ['-u', 'postgres', '--', command, ...args]];
}

async function pgCtl(args: string[], what: string): Promise<void> {
  const [command, fullArgs] = asServerUser(tool('pg_ctl'), args);
  await runChecked(command, fullArgs, what);
}

export const postgresService: LocalService = {
  name: 'postgres',
  commandMarker: 'postgres',
  variable: 'DATABASE_URL',
  address: (config) => urlHostPort(config.databaseUrl, 5432),
  ready: (config) => postgresReady(config.databaseUrl),

  async start(config: Config): Promise<StartedService> {
    const { host, port } = this.address(config);
    const user = decodeURIComponent(new URL(config.databaseUrl).username) || 'postgres';
    const home = path.join(config.home, 'postgres');
    const dataDir = path.join(home, 'data');
    const logFile = path.join(home, 'postgres.log');
    fs.mkdirSync(home, { recursive: true });
    if (os.userInfo().uid === 0)
      await runChecked('chown', ['-R', 'postgres', home], 'Handing the data folder to postgres');

    if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
      const [command, args] = asServerUser(tool('initdb'), [
        '-D',
        dataDir,
        '-U',
        user,
        '--auth=trust',
        '-E',
        'UTF8',
      ]);
      await runChecked(command, args, 'initdb');
    }
    const serverOptions = `-p ${port} -c listen_addresses=${host} -k ${home}`;
    await pgCtl(['-D', dataDir, '-l', logFile, '-o', serverOptions, '-w', 'start'], 'Starting PostgreSQL');
    await waitForServer(
      undefined,
      () => postgresReady(config.databaseUrl),
      `PostgreSQL on ${host}:${port}`,
      logFile,
      30_000,
    );
    const pid = Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return { pid, address: `${host}:${port}`, dataDir, logFile, startedAt: new Date().toISOString() };
  },

  async stop(started) {
    await pgCtl(['-D', started.dataDir, '-m', 'fast', '-w', 'stop'], 'Stopping PostgreSQL');
  },
};
