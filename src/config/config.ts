import path from 'node:path';
import { z } from 'zod';

/** A `host:port` pair, as used by KAFKA_BROKERS. */
const hostPort = z
  .string()
  .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'expected host:port, e.g. 127.0.0.1:9092');

const urlWithProtocol = (protocols: string[], example: string) =>
  z.string().refine(
    (value) => {
      try {
        const url = new URL(value);
        return protocols.includes(url.protocol) && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: `expected a URL like ${example}` },
  );

/** 0 asks the system for any free port (tests, several schedulers on one machine). */
const PORT_RANGE = 'expected a port from 0 (any free port) to 65535';
const port = z.string().regex(/^\d+$/, PORT_RANGE).transform(Number).pipe(z.number().max(65535, PORT_RANGE));

const sqlName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'expected a lower-case SQL identifier, e.g. tickflow');

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
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TICKFLOW_HOME: z.string().min(1).default('.tickflow'),
  TICKFLOW_CACHE: z.string().min(1).optional(),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  kafka: { brokers: string[]; clientId: string };
  redisUrl: string;
  databaseUrl: string;
  databaseSchema: string;
  queuePrefix: string;
  schedulesFile: string;
  web: { host: string; port: number };
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  /** Git-ignored folder that holds the state of services `tickflow services up` started. */
  home: string;
  /** Shared download cache (Kafka jars); survives fresh clones. */
  cacheDir: string;
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
      return `${variable}=${JSON.stringify(env[variable] ?? '')} is invalid: ${issue.message}`;
    });
    throw new ConfigError(`Configuration error: ${problems.join('; ')} (see .env.example)`);
  }
  const e = parsed.data;
  const home = path.resolve(e.TICKFLOW_HOME);
  return {
    kafka: { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID },
    redisUrl: e.REDIS_URL,
    databaseUrl: e.DATABASE_URL,
    databaseSchema: e.DATABASE_SCHEMA,
    queuePrefix: e.QUEUE_PREFIX,
    schedulesFile: path.resolve(e.SCHEDULES_FILE),
    web: { host: e.WEB_HOST, port: e.WEB_PORT },
    logLevel: e.LOG_LEVEL,
    home,
    cacheDir: path.resolve(
      e.TICKFLOW_CACHE ?? path.join(env.XDG_CACHE_HOME ?? path.join(env.HOME ?? home, '.cache'), 'tickflow'),
    ),
  };
}
