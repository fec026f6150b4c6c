import { fork } from 'node:child_process';
import path from 'node:path';
import type { ServiceCpu } from './service-cpu';

/**
 * maxWait of the timed consumer-batch run, whose batchSize is the whole backlog: one run of all the
 * messages, written in one PostgreSQL transaction like the COPY reference. It ends as soon as it
 * has them all (or is caught up), so this only bounds a stalled run.
 */
export const CONSUMER_MAX_WAIT_MS = 60_000;
/** maxWait of the warm runs on a drained topic whose overhead the consumer child measures. */
export const EMPTY_RUN_WAIT_MS = 200;

/** What bench/run-job-child.ts measures, by job. */
export interface ProducerFigures {
  produced: number;
  bytes: number;
  requests: number;
  durationMs: number;
  cpuMs: number;
  /** CPU PostgreSQL and the broker spent meanwhile (undefined without /proc). */
  serviceCpuMs?: ServiceCpu;
}

export interface ConsumerFigures {
  consumed: number;
  runs: number;
  durationMs: number;
  cpuMs: number;
  serviceCpuMs?: ServiceCpu;
  /** ms over maxWait of warm runs on a drained topic. */
  emptyRunOverheadsMs: number[];
}

export interface ChildRequest {
  job: 'producer-batch' | 'consumer-batch';
  messages: number;
  /** The job's params apart from the counts the child sets itself. */
  params: Record<string, unknown>;
}

export interface ChildReport<Figures> {
  figures: Figures;
  /** process.resourceUsage().maxRSS at the end of the child, in bytes. */
  peakRssBytes: number;
  /** RSS once the child has loaded its modules (tsx included), before the job: the floor of the peak. */
  startRssBytes: number;
}

const script = path.join(import.meta.dirname, 'run-job-child.ts');

/**
 * Runs one job's timed section in a process of its own (node --import tsx), so its peak RSS is its
 * own and not hidden by another job's or by the bench's; the report comes back over IPC.
 */
export function runJobInChild<Figures>(
  request: ChildRequest,
  env: NodeJS.ProcessEnv,
): Promise<ChildReport<Figures>> {
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(request)], {
      env,
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    });
    let report: ChildReport<Figures> | undefined;
    let stderr = '';
    child.stderr?.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('message', (message) => {
      report = message as ChildReport<Figures>;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && report) resolve(report);
      else reject(new Error(`${request.job} child exited ${code} without a report:\n${stderr.trim()}`));
    });
  });
}
