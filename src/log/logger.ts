import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON logs for machines; pino-pretty when a person watches a terminal. */
export function createLogger(level: string, name = 'tickflow'): Logger {
  const pretty = process.stdout.isTTY && process.env.CI !== 'true';
  return pino({
    name,
    level,
    ...(pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, ignore: 'pid,hostname' } } }
      : {}),
  });
}
