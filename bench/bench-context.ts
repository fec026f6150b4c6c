import type { JobContext } from '../jobs/job';
import type { Logger } from '../src/log/logger';
import type { Resources } from '../src/runtime/resources';

/**
 * The one place the bench builds a JobContext by hand (the worker builds it in production): when
 * the context's shape changes, only this function follows.
 */
export function benchContext(resources: Resources, log: Logger, runId = 'bench'): JobContext {
  const now = new Date();
  return {
    signal: new AbortController().signal,
    log,
    resources,
    schedule: 'bench',
    runId,
    attempt: 1,
    window: { from: now, to: now },
  };
}
