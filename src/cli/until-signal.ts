import type { Logger } from '../log/logger';

/**
 * Resolves on the first SIGINT or SIGTERM, so the caller can shut down gracefully; a second one
 * (a person losing patience with a long run) exits at once.
 */
export function untilSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const first = (signal: NodeJS.Signals) => {
      log.info({ signal }, `${signal}: stopping; active runs may finish (press Ctrl-C again to exit now)`);
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.once('SIGINT', first);
    process.once('SIGTERM', first);
  });
}
