import { z } from 'zod';
import { type FieldIssue, fieldIssues } from '../src/field-issues';
import { consumerBatchJob } from './consumer-batch';
import type { JobDefinition } from './job';
import { producerBatchJob } from './producer-batch';
import { sleepJob } from './sleep';
import { streamRollupJob } from './stream-rollup';

/** Every job type a schedule may name in `job:`. One file per job type, registered here. */
export const jobs: Record<string, JobDefinition> = Object.fromEntries(
  [sleepJob, producerBatchJob, consumerBatchJob, streamRollupJob].map((job) => [
    job.name,
    job as unknown as JobDefinition,
  ]),
);

function findJob(name: string): JobDefinition | undefined {
  return jobs[name];
}

/**
 * The fields of each job type's result that count messages the run handled: tickflow_messages_total
 * adds them up, the field's name as its `kind` label. A job type not listed counts none: e.g. a
 * rollup's `flagged` totals stored rows again, which are not messages that run handled.
 */
const MESSAGE_COUNTS: Readonly<Record<string, readonly string[]>> = {
  'producer-batch': ['produced', 'fraud', 'malformed'],
  'consumer-batch': ['consumed', 'valid', 'invalid', 'scored', 'flagged', 'alerts'],
};

/** The message-count fields of a job type's result (none for an unknown or absent type). */
export const messageCountsOf = (job: string | undefined): readonly string[] =>
  (job === undefined ? undefined : MESSAGE_COUNTS[job]) ?? [];

/** Params a job's own schema refused; `details` names each field and what it expects, on one line. */
export class JobParamsError extends Error {
  override name = 'JobParamsError';
  constructor(
    readonly job: string,
    readonly details: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super(`params do not fit job ${job}: ${details}`);
  }
}

/**
 * The job type and its params checked by the job's own schema, for every path that starts a run
 * without going through schedules.yaml (the worker, `tickflow trigger`).
 */
export function resolveJob(
  name: string,
  input: unknown,
): { definition: JobDefinition; params: Record<string, unknown> } {
  const definition = findJob(name);
  if (!definition) {
    throw new Error(
      `unknown job type "${name}"; job types: ${Object.keys(jobs).join(', ')} (see jobs/index.ts)`,
    );
  }
  const parsed = definition.params.safeParse(input);
  if (!parsed.success) {
    const issues = fieldIssues(parsed.error.issues, '(params)');
    throw new JobParamsError(name, z.prettifyError(parsed.error).replace(/\n/g, ' '), issues);
  }
  return { definition, params: parsed.data as Record<string, unknown> };
}
