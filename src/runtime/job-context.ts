import type { JobContext } from './job';
import type { Resources } from './resources';

/** What the worker (or a test, or the bench) knows of a run before it starts. */
export type RunIdentity = Pick<JobContext, 'signal' | 'log' | 'schedule' | 'runId' | 'attempt' | 'window'> &
  Partial<Pick<JobContext, 'upstream'>>;

/**
 * A run's context: who it is, and out of the process's long-lived resources only the capabilities a
 * job may use (Kafka through the StreamClient seam, the PostgreSQL pool, process-wide shared objects).
 */
export function jobContext(resources: Resources, run: RunIdentity): JobContext {
  return {
    ...run,
    kafka: resources.kafka,
    db: resources.db,
    shared: (key, create) => resources.shared(key, create),
  };
}
