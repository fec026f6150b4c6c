import { fork } from 'node:child_process';
import path from 'node:path';
import { projectPath } from '../src/paths';
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
  /** The producer's warm-up run goes here, so the timed topic holds exactly `messages`. */
  warmUpTopic?: string;
}

export interface ChildReport<Figures> {
  figures: Figures;
  /** process.resourceUsage().maxRSS at the end of the child, in bytes. */
  peakRssBytes: number;
  /** RSS once the child has loaded its modules, before the job: the floor of the peak. */
  startRssBytes: number;
}

/**
 * A bench child's script (`bench/<name>.ts`), bundled with esbuild as `npm run build` bundles the
 * CLI: it runs as plain JavaScript, like a built `tickflow worker`. Under tsx, each worker thread
 * loads tsx and compiles its modules again (~40 MB more peak RSS in the producer's run), which a
 * built worker never does. Written under node_modules/.cache, from where it resolves the project's
 * packages and finds its root. The producer's thread comes from dist/, so the bench builds that first.
 */
const bundled = new Map<string, Promise<string>>();
export function bundledChild(name = 'run-job-child'): Promise<string> {
  let script = bundled.get(name);
  if (!script) {
    script = bundleChild(name);
    bundled.set(name, script);
  }
  return script;
}

/** Loaded here, not at the top: the child's own bundle holds this module and must not load esbuild. */
async function bundleChild(name: string): Promise<string> {
  const [{ build }, { runChecked }] = await Promise.all([
    import('esbuild'),
    import('../src/services/process'),
  ]);
  await runChecked(
    'npm',
    ['run', 'build'],
    'Building the CLI (npm run build): the bench child starts its threads from dist/',
  );
  const outfile = projectPath('node_modules', '.cache', 'tickflow-bench', `${name}.mjs`);
  await build({
    entryPoints: [path.join(import.meta.dirname, `${name}.ts`)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}

/**
 * Runs one job's timed section in a process of its own, so its peak RSS is its own and not hidden by
 * another job's or by the bench's; the report comes back over IPC.
 */
export async function runJobInChild<Figures>(
  request: ChildRequest,
  env: NodeJS.ProcessEnv,
): Promise<ChildReport<Figures>> {
  const script = await bundledChild();
  return new Promise((resolve, reject) => {
    const child = fork(script, [JSON.stringify(request)], {
      env,
      // Not this process's flags: under tsx they load its loader into the child and every thread it
      // starts (~30 MB of peak RSS and CPU at start) that a built worker never has.
      execArgv: [],
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
