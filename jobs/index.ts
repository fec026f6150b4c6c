import { JobRegistry } from '../src/runtime/job-registry';
import { consumerBatchJob } from './consumer-batch';
import { producerBatchJob } from './producer-batch';
import { sleepJob } from './sleep';
import { streamRollupJob } from './stream-rollup';
import { windowCountJob } from './window-count';

/** Every job type a schedule may name in `job:`. One file per job type, registered here. */
export const jobs = new JobRegistry([
  sleepJob,
  producerBatchJob,
  consumerBatchJob,
  streamRollupJob,
  windowCountJob,
]);
