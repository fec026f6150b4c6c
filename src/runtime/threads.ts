import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { projectPath } from '../paths';

/** Built by esbuild into dist/, or run from source under tsx or vitest. */
const FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Starts a worker thread on the module at `source` (a path from the project root, no extension).
 * Built, that module is its own entry point, dist/<name>.js (see the build script). From source it
 * is TypeScript, which a thread cannot load by itself (it does not inherit tsx): a small JS module
 * registers tsx in the thread first.
 */
export function startThread(source: string, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  if (!FROM_SOURCE) {
    const built = projectPath('dist', `${path.basename(source)}.js`);
    if (!fs.existsSync(built)) throw new Error(`${built} is missing: run npm run build`);
    return new Worker(built, { workerData, resourceLimits });
  }
  return new Worker(projectPath('src', 'runtime', 'typescript-thread.mjs'), {
    workerData,
    resourceLimits,
    argv: [pathToFileURL(projectPath(`${source}.ts`)).href],
  });
}
