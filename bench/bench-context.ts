import type { Logger } from '../src/log/logger';
import type { JobContext, RunWindow } from '../src/runtime/job';
import { jobContext } from '../src/runtime/job-context';
import type { Resources } from '../src/runtime/resources';

/**
 * The one place the bench builds a JobContext by hand (the worker builds it in production): when
 * the context's shape changes, only this function follows.
 */
export function benchContext(
  resources: Resources,
  log: Logger,
  runId = 'bench',
  window: RunWindow = { from: new Date(), to: new Date() },
): JobContext {
  return jobContext(resources, {
    signal: new AbortController().signal,
    log,
    schedule: 'bench',
    runId,
    attempt: 1,
    window,
  });
}
