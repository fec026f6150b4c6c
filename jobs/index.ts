import { z } from 'zod';
import { type FieldIssue, fieldIssues } from '../src/field-issues';
import type { JobDefinition } from '../src/runtime/job';
import { consumerBatchJob } from './consumer-batch';
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

/** The message-count fields of a job type's result (see JobDefinition; none for an unknown type). */
export const messageCountsOf = (job: string): readonly string[] => jobs[job]?.messageCounts ?? [];

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
  const definition = jobs[name];
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
