import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { type Config, loadConfig } from '../../src/config/config';
import { redisConnection } from '../../src/config/redis-connection';
import { createLogger, type Logger } from '../../src/log/logger';
import type { ServiceName, StartedService } from '../../src/services/local-service';
import { servicesDown, servicesUp } from '../../src/services/services';
import { runCli } from '../cli';
import { sleep, waitFor } from '../scheduler/support';

const root = path.resolve(import.meta.dirname, '../..');
const execFileAsync = promisify(execFile);

/** One line a child printed: pino's JSON when it parses, the raw text otherwise. */
export interface LogLine {
  at: number;
  raw: string;
  json?: Record<string, unknown>;
}

type LineListener = (child: Child, line: LogLine) => void;

/** A `bin/tickflow` child in its own process group, its output kept line by line. */
export class Child {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<number | null>;
  /** Set by kill(): an exit the suite caused, not a crash. */
  killedOnPurpose = false;
  /** When it exited, if it has. */
  exitedAt?: number;
  private rest = '';

  constructor(
    readonly label: string,
    readonly args: string[],
    readonly readyLine: string,
    readonly process: ChildProcess,
    private readonly onLine: LineListener,
  ) {
    const take = (chunk: Buffer) => {
      const text = this.rest + chunk.toString('utf8');
      const parts = text.split('\n');
      this.rest = parts.pop() ?? '';
      for (const raw of parts) {
        const line: LogLine = { at: Date.now(), raw, ...parseJson(raw) };
        this.lines.push(line);
        this.onLine(this, line);
      }
    };
    process.stdout?.on('data', take);
    process.stderr?.on('data', take);
    this.exited = new Promise((resolve) =>
      process.on('exit', (code, signal) => {
        this.exitedAt = Date.now();
        resolve(code ?? (signal ? -1 : 0));
      }),
    );
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  has(message: string): boolean {
    return this.lines.some((line) => line.json?.msg === message);
  }

  tail(n = 15): string {
    return this.lines
      .slice(-n)
      .map((line) => line.raw)
      .join('\n');
  }

  /** What it printed that was not a log line, from the last uncaught error on: a crash's stack. */
  crashOutput(): string {
    const raw = this.lines.filter((line) => !line.json).map((line) => line.raw);
    const start = raw.findLastIndex((line) => /throw er|Uncaught|Unhandled|^node:/.test(line));
    return raw
      .slice(start >= 0 ? start : -40)
      .slice(0, 60)
      .join('\n');
  }

  /** The crash in one line: the error and what emitted it. */
  crashSummary(): string {
    const lines = this.crashOutput()
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => /^[A-Za-z]*Error\b|Emitted 'error' event|^at .*\(\/work|code: /.test(line));
    return lines.slice(0, 6).join(' | ');
  }

  /** The whole process group, at once: a SIGKILL leaves it no time to clean up. */
  kill(signal: NodeJS.Signals): void {
    this.killedOnPurpose = true;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }
}

function parseJson(raw: string): { json?: Record<string, unknown> } {
  if (!raw.startsWith('{')) return {};
  try {
    return { json: JSON.parse(raw) as Record<string, unknown> };
  } catch {
    return {};
  }
}

export async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Free ports for the suite's own services; Kafka's KRaft controller takes the broker port + 1. */
async function freePorts(): Promise<{ kafka: number; redis: number; postgres: number }> {
  const taken = new Set<number>();
  const next = async (pair = false): Promise<number> => {
    for (let tries = 0; tries < 50; tries++) {
      const port = await anyFreePort();
      if (taken.has(port) || taken.has(port + 1) || port >= 65_535) continue;
      if (pair && !(await portIsFree(port + 1))) continue;
      taken.add(port);
      if (pair) taken.add(port + 1);
      return port;
    }
    throw new Error('no free port found');
  };
  return { kafka: await next(true), redis: await next(), postgres: await next() };
}

/** Alive and not a zombie (a SIGKILLed JVM this process spawned may wait to be reaped). */
export function processAlive(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** pg_ctl as the launcher finds it: PATH, then Debian's /usr/lib/postgresql/<version>/bin. */
function pgCtlPath(): string {
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian))
    for (const version of fs.readdirSync(debian).sort((a, b) => Number(b) - Number(a)))
      dirs.push(path.join(debian, version, 'bin'));
  for (const dir of dirs) if (fs.existsSync(path.join(dir, 'pg_ctl'))) return path.join(dir, 'pg_ctl');
  throw new Error('pg_ctl not found');
}

export const TOPICS = { transactions: 'faults-tx', dlq: 'faults-dlq', alerts: 'faults-alerts' } as const;
export const GROUP = 'faults-consumer';

/**
 * The producer schedule never fires during the suite (a yearly cron): every producer run is a
 * manual trigger with a known seed, so the topic holds exactly what the suite asked for.
 */
export const SCHEDULES = `topics:
  ${TOPICS.transactions}: { partitions: 3 }
  ${TOPICS.dlq}: { partitions: 1 }
  ${TOPICS.alerts}: { partitions: 3 }
schedules:
  producer:
    job: producer-batch
    cron: "0 0 3 1 1 *"
    retries: 3
    backoff: 1s
    timeout: 30s
    params: { topic: ${TOPICS.transactions}, count: 500, fraudRate: 0.05, malformedRate: 0.01 }
  consumer:
    job: consumer-batch
    every: 500ms
    retries: 3
    backoff: 1s
    timeout: 30s
    params:
      topic: ${TOPICS.transactions}
      group: ${GROUP}
      batchSize: 2000
      maxWait: 300
      dlqTopic: ${TOPICS.dlq}
      alertsTopic: ${TOPICS.alerts}
`;

/**
 * Kafka, Redis and PostgreSQL of the suite's own, on free ports, with their state in a temporary
 * TICKFLOW_HOME, started and stopped by the project's launcher; plus the tickflow processes.
 */
export class FaultWorld {
  /** The processes still running. */
  readonly children = new Set<Child>();
  /** Every process the suite started, for the logs it leaves behind. */
  private readonly all: Child[] = [];
  private readonly crashed: Child[] = [];
  private stopping = false;
  private readonly listeners = new Set<LineListener>();

  private constructor(
    readonly home: string,
    readonly env: NodeJS.ProcessEnv,
    readonly config: Config,
    readonly log: Logger,
    /** False when the services are someone else's (the cluster suite's): `stop` leaves them running. */
    private readonly ownsServices = true,
  ) {}

  /**
   * The same world on services already running (the cluster suite's Kafka cluster and Redis with
   * Sentinel, given as variables; PostgreSQL the shared one, in a schema of its own), with
   * `extraSchedules` after the suite's two.
   */
  static async on(services: Record<string, string>, id: string, extraSchedules = ''): Promise<FaultWorld> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-cluster-world-'));
    const schedulesFile = path.join(home, 'schedules.yaml');
    fs.writeFileSync(schedulesFile, SCHEDULES + extraSchedules);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...services,
      DATABASE_SCHEMA: id,
      QUEUE_PREFIX: id,
      SCHEDULES_FILE: schedulesFile,
      WEB_PORT: '0',
      WORKER_PORT: '0',
      LOG_LEVEL: 'debug',
    };
    const config = loadConfig(env);
    return new FaultWorld(home, env, config, createLogger('warn', 'cluster'), false);
  }

  static async start(): Promise<FaultWorld> {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-faults-'));
    // PostgreSQL runs as the `postgres` user when we are root: it must reach its folder inside.
    fs.chmodSync(home, 0o755);
    const ports = await freePorts();
    const schedulesFile = path.join(home, 'schedules.yaml');
    fs.writeFileSync(schedulesFile, SCHEDULES);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      KAFKA_BROKERS: `127.0.0.1:${ports.kafka}`,
      REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
      DATABASE_URL: `postgres://postgres@127.0.0.1:${ports.postgres}/tickflow`,
      DATABASE_SCHEMA: 'tickflow',
      QUEUE_PREFIX: 'tickflow',
      TICKFLOW_HOME: home,
      SCHEDULES_FILE: schedulesFile,
      WEB_PORT: '0',
      WORKER_PORT: '0',
      // debug: the consumer logs each rewind to the first uncommitted message.
      LOG_LEVEL: 'debug',
    };
    const config = loadConfig(env);
    const log = createLogger('warn', 'faults');
    const world = new FaultWorld(home, env, config, log);
    await servicesUp(config, log);
    return world;
  }

  /** A fresh connection per query: the suite's own reads must not depend on a pool that saw an outage. */
  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    const client = new pg.Client({
      connectionString: this.config.databaseUrl,
      options: `-c search_path=${this.config.databaseSchema}`,
      connectionTimeoutMillis: 3_000,
    });
    client.on('error', () => {});
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end().catch(() => {});
    }
  }

  onLine(listener: LineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  spawn(label: string, args: string[], readyLine = ''): Child {
    const process = spawn(path.join(root, 'bin/tickflow'), args, {
      env: this.env,
      cwd: root,
      detached: true,
    });
    const child = new Child(label, args, readyLine, process, (from, line) => {
      for (const listener of this.listeners) listener(from, line);
    });
    this.children.add(child);
    this.all.push(child);
    void child.exited.then(() => this.children.delete(child));
    return child;
  }

  /** A long-lived `tickflow` process, once it has logged `ready` (fails early with its output if it exits). */
  async spawnReady(label: string, args: string[], ready: string): Promise<Child> {
    const child = this.spawn(label, args, ready);
    let exited = false;
    void child.exited.then(() => {
      exited = true;
    });
    await waitFor(
      async () => {
        if (exited) throw new Error(`${label} exited at start:\n${child.tail()}`);
        return child.has(ready);
      },
      `${label} to log "${ready}"`,
      60_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${child.tail()}`);
    });
    return child;
  }

  /**
   * Like a process supervisor (systemd, Kubernetes): a process that exits without the suite killing
   * it is a crash, recorded, and started again under the same role so the suite can go on.
   */
  async spawnSupervised(label: string, args: string[], ready: string): Promise<Child> {
    const child = await this.spawnReady(label, args, ready);
    void child.exited.then(async () => {
      if (child.killedOnPurpose || this.stopping) return;
      this.crashed.push(child);
      const restarted = `${label.replace(/\+\d+$/, '')}+${this.crashed.length}`;
      // A start fails while a service it needs is still down (it says so and exits 1): try again.
      while (!this.stopping) {
        try {
          await this.spawnSupervised(restarted, args, ready);
          return;
        } catch {
          await sleep(1_000);
        }
      }
    });
    return child;
  }

  /** Processes that exited without the suite killing them. */
  crashes(): Child[] {
    return [...this.crashed];
  }

  /** `tickflow <args>` to completion, as a person would run it. */
  cli(args: string[]) {
    return runCli(args, this.env);
  }

  redis(): Redis {
    const redis = redisConnection(this.config, { maxRetriesPerRequest: 1, lazyConnect: true });
    redis.on('error', () => {});
    return redis;
  }

  /** What the launcher recorded about a service it started (pid, data folder), by its services.json key. */
  started(key: ServiceName | 'kafka-cluster' | 'redis-sentinel'): StartedService {
    const file = path.join(this.config.home, 'services.json');
    const state = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Record<string, StartedService>>;
    const service = state[key];
    if (!service) throw new Error(`the launcher has no record of ${key} in ${file}`);
    return service;
  }

  /** Starts what is down again, through the launcher (it reuses what answers). */
  async up(name: ServiceName): Promise<void> {
    await servicesUp(this.config, this.log, [name]);
  }

  /** PostgreSQL's crash stop: no checkpoint, every connection dropped at once (recovery at start). */
  async stopPostgresImmediately(): Promise<void> {
    const { dataDir } = this.started('postgres');
    const args = ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
    const [command, fullArgs] =
      os.userInfo().uid === 0
        ? ['runuser', ['-u', 'postgres', '--', pgCtlPath(), ...args]]
        : [pgCtlPath(), args];
    await execFileAsync(command, fullArgs);
  }

  /** SIGKILL to the broker's JVM, then waits until it is gone. */
  async killKafka(): Promise<number> {
    const { pid } = this.started('kafka');
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.includes('kafka.Kafka')) throw new Error(`pid ${pid} is not the suite's Kafka: ${cmdline}`);
    process.kill(pid, 'SIGKILL');
    await waitFor(async () => !processAlive(pid), `Kafka (pid ${pid}) to die`, 10_000);
    return pid;
  }

  /** Per process (label and pid) that printed any: how many of its lines `matches` takes. */
  countLines(matches: (line: LogLine) => boolean): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const child of this.all) {
      const n = child.lines.filter(matches).length;
      if (n > 0) counts[`${child.label} (pid ${child.pid})`] = n;
    }
    return counts;
  }

  /** Each process's output, one file per process, for reading after a failure. */
  writeLogs(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    this.all.forEach((child, i) => {
      const text = child.lines.map((line) => line.raw).join('\n');
      fs.writeFileSync(path.join(dir, `${i + 1}-${child.label}-${child.pid}.log`), `${text}\n`);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const child of this.children) child.kill('SIGTERM');
    await Promise.race([Promise.all([...this.children].map((child) => child.exited)), sleep(10_000)]);
    for (const child of this.children) child.kill('SIGKILL');
    if (this.ownsServices) await servicesDown(this.config, this.log);
    if (!process.env.FAULTS_KEEP_HOME) fs.rmSync(this.home, { recursive: true, force: true });
  }
}
