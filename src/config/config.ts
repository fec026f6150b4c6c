import path from 'node:path';
import { z } from 'zod';
import { redactText } from '../redact';
import { HTTP, urlWith } from './url';

/** A `host:port` pair, as used by KAFKA_BROKERS. */
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9092');

const urlWithProtocol = (protocols: readonly string[], example: string) =>
  z.string().refine((value) => urlWith(value, protocols) !== undefined, {
    message: `expected a URL like ${example}`,
  });

/** 0 asks the system for any free port (tests, several schedulers on one machine). */
const PORT_RANGE = 'expected a port from 0 (any free port) to 65535';
const port = z.string().regex(/^\d+$/, PORT_RANGE).transform(Number).pipe(z.number().max(65535, PORT_RANGE));

/** A whole number from `min` to `max` (milliseconds, a count), given as digits. */
const wholeNumber = (min: number, max: number, example: string) => {
  const hint = `expected a whole number from ${min} to ${max}, e.g. ${example}`;
  return z.string().regex(/^\d+$/, hint).transform(Number).pipe(z.number().min(min, hint).max(max, hint));
};

const flag = z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true');

const sqlName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier, e.g. tickflow');

/** The Kafka client libraries tickflow can run on (KAFKA_CLIENT). */
export const kafkaClients = ['kafkajs', 'platformatic'] as const;
export type KafkaClientName = (typeof kafkaClients)[number];

/**
 * Every environment variable tickflow reads, with its local default.
 * `.env.example` documents the same list; keep the two in step.
 */
const envSchema = z.object({
  KAFKA_BROKERS: z
    .string()
    .transform((value) => value.split(',').map((broker) => broker.trim()))
    .pipe(z.array(hostPort).min(1, 'expected at least one broker'))
    .optional(),
  KAFKA_NODES: wholeNumber(1, 9, '3').default(1),
  KAFKA_CLIENT_ID: z.string().min(1).default('tickflow'),
  KAFKA_CLIENT: z
    .enum(kafkaClients, { error: `expected one of ${kafkaClients.join(', ')} (the Kafka client library)` })
    .default('kafkajs'),
  REDIS_URL: urlWithProtocol(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default(
    'redis://127.0.0.1:6379',
  ),
  REDIS_SENTINELS: z
    .string()
    .transform((value) => value.split(',').map((sentinel) => sentinel.trim()))
    .pipe(z.array(hostPort).min(1, 'expected at least one sentinel'))
    .optional(),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[A-Za-z0-9._-]+$/, 'expected the master name the sentinels monitor, e.g. tickflow')
    .optional(),
  DATABASE_URL: urlWithProtocol(
    ['postgres:', 'postgresql:'],
    'postgres://postgres@127.0.0.1:5432/tickflow',
  ).default('postgres://postgres@127.0.0.1:5432/tickflow'),
  DATABASE_SCHEMA: sqlName.default('tickflow'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'expected letters, digits, - or _')
    .default('tickflow'),
  SCHEDULES_FILE: z.string().min(1).default('schedules.yaml'),
  WEB_HOST: z.string().min(1).default('127.0.0.1'),
  WEB_PORT: port.default(3000),
  WEB_PUBLIC_URL: urlWithProtocol(HTTP, 'https://tickflow.example.com').optional(),
  WEB_USERNAME: z.string().min(1).optional(),
  WEB_PASSWORD: z.string().min(8, 'expected at least 8 characters').optional(),
  API_TOKEN: z
    .string()
    .min(16, 'expected at least 16 characters, e.g. from `openssl rand -hex 24`')
    .optional(),
  WEB_USERS_FILE: z.string().min(1).optional(),
  WEB_READ_ONLY: flag.default(false),
  WEB_MAX_CONNECTIONS: wholeNumber(1, 100_000, '256').default(256),
  WEB_HEADERS_TIMEOUT_MS: wholeNumber(100, 600_000, '10000').default(10_000),
  WEB_REQUEST_TIMEOUT_MS: wholeNumber(100, 3_600_000, '30000').default(30_000),
  MANUAL_RUNS_QUEUED_MAX: wholeNumber(1, 100_000, '20').default(20),
  METRICS_PUBLIC: flag.default(false),
  WORKER_PORT: port.default(3001),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TICKFLOW_HOME: z.string().min(1).default('.tickflow'),
  TICKFLOW_CACHE: z.string().min(1).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: urlWithProtocol(HTTP, 'http://127.0.0.1:4318').optional(),
});

export interface Config {
  /**
   * `nodes`: how many Kafka nodes `tickflow services up` starts here (KAFKA_NODES; one per broker listed).
   * `client`: which library implements the StreamClient (docs/streaming.md, "Choosing the client").
   */
  kafka: { brokers: string[]; clientId: string; nodes: number; client: KafkaClientName };
  redisUrl: string;
  /** Set: connect through these Sentinels to the master they name (REDIS_URL then gives only credentials and db). */
  redisSentinel?: RedisSentinel;
  databaseUrl: string;
  databaseSchema: string;
  queuePrefix: string;
  schedulesFile: string;
  web: WebConfig;
  /** At most this many manual runs of one schedule queued (not started) per caller; more get 429. */
  manualRunsQueuedMax: number;
  /** Where `tickflow worker` serves /health, /ready and /metrics. */
  workerPort: number;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Git-ignored folder that holds the state of services `tickflow services up` started. */
  home: string;
  /** Shared download cache (Kafka jars); survives fresh clones. */
  cacheDir: string;
  /** OTLP/HTTP receiver of OpenTelemetry traces; traces are off without one (see src/telemetry). */
  tracesEndpoint?: string;
}

export interface RedisSentinel {
  sentinels: { host: string; port: number }[];
  name: string;
}

export interface WebConfig {
  host: string;
  port: number;
  /** The address people reach the UI at, for links (failure notifications); default http://host:port. */
  publicUrl?: string;
  /** HTTP basic credentials and/or a Bearer token; with neither, only loopback may be served. */
  auth: { username?: string; password?: string; token?: string; usersFile?: string };
  /** Serve everything read-only: no toggles, triggers or Bull Board actions. */
  readOnly: boolean;
  /** Serve /metrics without credentials (for a Prometheus without them). */
  metricsPublic: boolean;
  /** Open connections at most (more are refused), and how long a request's headers and whole may take. */
  limits: { maxConnections: number; headersTimeoutMs: number; requestTimeoutMs: number };
}

/** `http://host:port`, with an IPv6 host in brackets. */
export const httpUrl = (host: string, port: number): string =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

/** Where people open the web UI (links in notifications): WEB_PUBLIC_URL, else this machine's address. */
export function publicWebUrl(web: Pick<WebConfig, 'host' | 'port' | 'publicUrl'>): string {
  const anyAddress = web.host === '0.0.0.0' || web.host === '::';
  return web.publicUrl ?? httpUrl(anyAddress ? '127.0.0.1' : web.host, web.port);
}

/** Variables whose value is a secret: an error names them and says how long the value is, never what. */
const SECRETS = new Set(['WEB_PASSWORD', 'API_TOKEN']);

/** `NAME="value"` for an error message: a secret's value left out, a URL's user, password and path too. */
function shownValue(variable: string, value: string | undefined): string {
  if (SECRETS.has(variable)) return `${variable} (${value?.length ?? 0} characters, not shown)`;
  return `${variable}=${JSON.stringify(redactText(value ?? ''))}`;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * The single local broker listens on 9092; a local cluster (KAFKA_NODES > 1) on 19092, 19094, … (each
 * node's controller on the next port), so that it never lands on a single broker already running.
 */
export const LOCAL_BROKER = '127.0.0.1:9092';
export const localClusterBrokers = (nodes: number): string[] =>
  Array.from({ length: nodes }, (_, index) => `127.0.0.1:${19092 + 2 * index}`);

/**
 * What `tickflow services up --redis-sentinel` starts when the variables are not set: a master and its
 * replica on 16379/16380 and three Sentinels on 26379–26381, never onto a single Redis on 6379.
 */
export const LOCAL_SENTINEL_DEFAULTS = {
  REDIS_URL: 'redis://127.0.0.1:16379',
  REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381',
  REDIS_SENTINEL_NAME: 'tickflow',
} as const;

/** KAFKA_BROKERS as given; else the local broker, or the local cluster's nodes (one per KAFKA_NODES). */
function brokersOf(brokers: string[] | undefined, nodes: number): string[] {
  if (!brokers) return nodes > 1 ? localClusterBrokers(nodes) : [LOCAL_BROKER];
  if (nodes > 1 && brokers.length !== nodes) {
    throw new ConfigError(
      `Configuration error: KAFKA_NODES=${nodes} starts ${nodes} nodes, one per broker in KAFKA_BROKERS, which lists ${brokers.length}: ` +
        `list ${nodes} (e.g. ${localClusterBrokers(nodes).join(',')}) or leave KAFKA_BROKERS unset (see .env.example)`,
    );
  }
  return brokers;
}

/** REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: Sentinel answers only for a master it knows by name. */
function sentinelOf(sentinels: string[] | undefined, name: string | undefined): RedisSentinel | undefined {
  if (!sentinels && !name) return undefined;
  if (!sentinels || !name) {
    throw new ConfigError(
      'Configuration error: REDIS_SENTINELS and REDIS_SENTINEL_NAME go together: set both ' +
        '(e.g. REDIS_SENTINELS=10.0.0.1:26379,10.0.0.2:26379 REDIS_SENTINEL_NAME=tickflow) or neither (see .env.example)',
    );
  }
  return {
    name,
    sentinels: sentinels.map((sentinel) => {
      const at = sentinel.lastIndexOf(':');
      return { host: sentinel.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(sentinel.slice(at + 1)) };
    }),
  };
}

/** Reads and validates the configuration; a bad value throws one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const variable = String(issue.path[0]);
      return `${shownValue(variable, env[variable])} is invalid: ${issue.message}`;
    });
    throw new ConfigError(`Configuration error: ${problems.join('; ')} (see .env.example)`);
  }
  const e = parsed.data;
  if (Boolean(e.WEB_USERNAME) !== Boolean(e.WEB_PASSWORD)) {
    throw new ConfigError(
      'Configuration error: WEB_USERNAME and WEB_PASSWORD go together: set both (or neither, and use API_TOKEN) (see .env.example)',
    );
  }
  const home = path.resolve(e.TICKFLOW_HOME);
  const redisSentinel = sentinelOf(e.REDIS_SENTINELS, e.REDIS_SENTINEL_NAME);
  return {
    kafka: {
      brokers: brokersOf(e.KAFKA_BROKERS, e.KAFKA_NODES),
      clientId: e.KAFKA_CLIENT_ID,
      nodes: e.KAFKA_NODES,
      client: e.KAFKA_CLIENT,
    },
    redisUrl: e.REDIS_URL,
    ...(redisSentinel ? { redisSentinel } : {}),
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    queuePrefix: e.QUEUE_PREFIX,
    schedulesFile: path.resolve(e.SCHEDULES_FILE),
    web: {
      host: e.WEB_HOST,
      port: e.WEB_PORT,
      ...(e.WEB_PUBLIC_URL ? { publicUrl: e.WEB_PUBLIC_URL.replace(/\/+$/, '') } : {}),
      auth: {
        ...(e.WEB_USERNAME ? { username: e.WEB_USERNAME } : {}),
        ...(e.WEB_PASSWORD ? { password: e.WEB_PASSWORD } : {}),
        ...(e.API_TOKEN ? { token: e.API_TOKEN } : {}),
        ...(e.WEB_USERS_FILE ? { usersFile: path.resolve(e.WEB_USERS_FILE) } : {}),
      },
      readOnly: e.WEB_READ_ONLY,
      metricsPublic: e.METRICS_PUBLIC,
      limits: {
        maxConnections: e.WEB_MAX_CONNECTIONS,
        headersTimeoutMs: e.WEB_HEADERS_TIMEOUT_MS,
        requestTimeoutMs: e.WEB_REQUEST_TIMEOUT_MS,
      },
    },
    manualRunsQueuedMax: e.MANUAL_RUNS_QUEUED_MAX,
    workerPort: e.WORKER_PORT,
    logLevel: e.LOG_LEVEL,
    home,
    cacheDir: path.resolve(
      e.TICKFLOW_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(env.HOME ?? home, '.cache'), 'tickflow'),
    ),
    ...(e.OTEL_EXPORTER_OTLP_ENDPOINT ? { tracesEndpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT } : {}),
  };
}
