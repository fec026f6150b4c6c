import { inject } from 'vitest';
import { type Config, loadConfig } from '../../src/config/config';
import { createLogger, type Logger } from '../../src/log/logger';
import { uniqueId } from '../support';

/** The suite's cluster (started by cluster-setup.ts) with this test's own schema and queue prefix. */
export function clusterTestEnv(label: string): {
  id: string;
  env: NodeJS.ProcessEnv;
  config: Config;
  log: Logger;
} {
  const id = uniqueId(label);
  const env = {
    ...process.env,
    ...inject('clusterEnv'),
    DATABASE_SCHEMA: id,
    QUEUE_PREFIX: id,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
  };
  const config = loadConfig(env);
  return { id, env, config, log: createLogger(config.logLevel, id) };
}
