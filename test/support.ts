import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Config, loadConfig } from '../src/config/config';
import { createLogger, type Logger } from '../src/log/logger';

/** A short random suffix: every test gets its own schema, queue prefix and topics. */
export const uniqueId = (label = 't') => `${label}_${randomBytes(4).toString('hex')}`;

export interface TestEnv {
  id: string;
  config: Config;
  log: Logger;
  /** The same isolation as environment variables, for child processes (CLI, workers). */
  env: NodeJS.ProcessEnv;
  topic(name: string): string;
  /** Drops the schema; queues and topics carry the unique id and are dropped by the tests that make them. */
  cleanup(): Promise<void>;
}

export function testEnv(label = 't'): TestEnv {
  const id = uniqueId(label);
  const env = {
    ...process.env,
    DATABASE_SCHEMA: id,
    QUEUE_PREFIX: id,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const config = loadConfig(env);
  return {
    id,
    config,
    log: createLogger(config.logLevel, id),
    env,
    topic: (name) => `${id}.${name}`,
    async cleanup() {
      const client = new pg.Client({ connectionString: config.databaseUrl });
      await client.connect().catch(() => undefined);
      await client.query(`drop schema if exists ${pg.escapeIdentifier(id)} cascade`).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}

/** Polls `probe` until it gives something, or fails naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
