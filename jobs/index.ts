import { consumerBatchJob } from './consumer-batch';
import type { JobDefinition } from './job';
import { producerBatchJob } from './producer-batch';
import { sleepJob } from './sleep';

/** Every job type a schedule may name in `job:`. One file per job type, registered here. */
export const jobs: Record<string, JobDefinition> = Object.fromEntries(
  [sleepJob, producerBatchJob, consumerBatchJob].map((job) => [job.name, job as unknown as JobDefinition]),
);

export function findJob(name: string): JobDefinition | undefined {
  return jobs[name];
}
