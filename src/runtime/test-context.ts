import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Config, loadConfig } from '../config/config';
import { migrate } from '../db/migrate';
import { createKafka } from '../kafka/client';
import { deleteTopics } from '../kafka/topics';
import { createLogger } from '../log/logger';
import type { JobContext, RunWindow, UpstreamRun } from './job';
import { jobContext } from './job-context';
import { Resources } from './resources';

/** What a job's test gets: a context on the real services, and the isolation it runs in. */
export interface JobTestContext {
  /** A run's context as the worker builds it; `run()` makes another for a further run. */
  ctx: JobContext;
  /** Another run on the same services: its window, attempt or upstream run. */
  run(
    overrides?: Partial<Pick<JobContext, 'window' | 'attempt' | 'runId'>> & { upstream?: UpstreamRun },
  ): JobContext;
  /** A topic name of this test's own (deleted by cleanup). */
  topic(name: string): string;
  config: Config;
  /** Drops the schema, deletes the topics named through `topic()`, closes the connections. */
  cleanup(): Promise<void>;
}

export interface TestContextOptions {
  /** Names the schema, topics and logs, e.g. the job's name. */
  label?: string;
  /** The run's window; by default the minute that ended now. */
  window?: RunWindow;
  /** The environment to read the services' addresses from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * For job authors: a JobContext on the real Kafka, PostgreSQL (a schema of its own, migrated) and
 * process resources, as the worker would give a run, so a job's test needs neither a scheduler nor
 * a worker. Every call is isolated (its own schema and topic names), so tests may run in parallel
 * and twice in a row. Call `cleanup()` when done.
 */
export async function testContext(options: TestContextOptions = {}): Promise<JobTestContext> {
  const id = `${options.label?.replace(/\W/g, '_') ?? 'job'}_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({ ...(options.env ?? process.env), DATABASE_SCHEMA: id, QUEUE_PREFIX: id });
  const log = createLogger(config.logLevel, id);
  await migrate(config, log);
  const resources = new Resources(config, log);
  const topics: string[] = [];
  const now = Date.now();
  const window = options.window ?? { from: new Date(now - 60_000), to: new Date(now) };
  const run: JobTestContext['run'] = (overrides = {}) =>
    jobContext(resources, {
      signal: new AbortController().signal,
      log,
      schedule: id,
      runId: overrides.runId ?? `test-${randomBytes(4).toString('hex')}`,
      attempt: overrides.attempt ?? 1,
      window: overrides.window ?? window,
      ...(overrides.upstream ? { upstream: overrides.upstream } : {}),
    });
  return {
    ctx: run(),
    run,
    topic(name) {
      const topic = `${id}.${name}`;
      topics.push(topic);
      return topic;
    },
    config,
    async cleanup() {
      await resources.close();
      if (topics.length) await deleteTopics(createKafka(config), topics).catch(() => {});
      const client = new pg.Client({ connectionString: config.databaseUrl });
      await client.connect();
      await client
        .query(`drop schema if exists ${pg.escapeIdentifier(id)} cascade`)
        .finally(() => client.end());
    },
  };
}
