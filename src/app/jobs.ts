import { jobs } from '../../jobs/index';
import type { JobRegistry } from '../runtime/job-registry';

/** tickflow's own job types (jobs/index.ts): what each process runs unless its wiring is given others. */
export const defaultJobs: JobRegistry = jobs;
