import fs from 'node:fs';
import type { Config } from '../config/config';
import type { Logger } from '../log/logger';
import { explainUnreachable } from './unreachable';

export interface CliContext {
  config: Config;
  log: Logger;
}

/**
 * Wraps a command: loads the configuration (a bad variable fails here, in one line),
 * and turns any thrown error into `error: <message>` on stderr and exit code 1.
 */
export function action<A extends unknown[]>(
  run: (ctx: CliContext, ...args: A) => Promise<number | undefined>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let config: Config | undefined;
    try {
      // A local .env (copied from .env.example) fills in what the environment does not set.
      if (fs.existsSync('.env')) process.loadEnvFile('.env');
      // Loaded here, not at the top: `tickflow --help` must not pay for zod and pino.
      const [{ loadConfig }, { createLogger }] = await Promise.all([
        import('../config/config'),
        import('../log/logger'),
      ]);
      config = loadConfig();
      const log = createLogger(config.logLevel);
      const code = await run({ config, log }, ...args);
      process.exitCode = code ?? 0;
    } catch (error) {
      const explained = config && explainUnreachable(error as Error, config);
      process.stderr.write(`error: ${explained ?? (error as Error).message}\n`);
      process.exitCode = 1;
    }
  };
}
