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
    .default('127.0.0.1:9092')
    .transform((value) => value.split(',').map((broker) => broker.trim()))
    .pipe(z.array(hostPort).min(1, 'expected at least one broker')),
  KAFKA_CLIENT_ID: z.string().min(1).default('tickflow'),
  KAFKA_CLIENT: z
    .enum(kafkaClients, { error: `expected one of ${kafkaClients.join(', ')} (the Kafka client library)` })
    .default('platformatic'),
  REDIS_URL: urlWithProtocol(['redis:', 'rediss:'], 'redis://127.0.0.1:6379').default(
    'redis://127.0.0.1:6379',
  ),
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
});

export interface Config {
  /** `client`: which library implements the StreamClient (docs/streaming.md, "Choosing the client"). */
  kafka: { brokers: string[]; clientId: string; client: KafkaClientName };
  redisUrl: string;
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
  return {
    kafka: { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, client: e.KAFKA_CLIENT },
    redisUrl: e.REDIS_URL,
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
  };
}
