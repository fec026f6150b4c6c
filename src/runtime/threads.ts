import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ResourceLimits, type Transferable, Worker } from 'node:worker_threads';
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

/**
 * Requests to a thread that answers each message with one reply, in the order asked: a function that
 * posts `message` and resolves with the reply. A dead thread (error, exit, unreadable reply) fails
 * every request waiting and every one after; `what` names the thread in that error.
 */
export function requester<Request, Reply>(
  thread: Worker,
  what: string,
): (message: Request, transfer?: Transferable[]) => Promise<Reply> {
  const waiting: Array<{ resolve: (reply: Reply) => void; reject: (error: Error) => void }> = [];
  let failure: Error | undefined;
  const fail = (error: Error) => {
    failure ??= error;
    for (const { reject } of waiting.splice(0)) reject(failure);
  };
  thread.on('message', (reply: Reply) => waiting.shift()?.resolve(reply));
  thread.on('error', fail);
  thread.on('messageerror', fail);
  thread.on('exit', (code) => fail(new Error(`the ${what} exited (code ${code}) before the run ended`)));
  return (message, transfer) => {
    const reply = failure
      ? Promise.reject(failure)
      : new Promise<Reply>((resolve, reject) => {
          // Posted first: a message that cannot be sent (say, one that cannot be cloned) throws here
          // and leaves no waiter behind to take another request's reply.
          thread.postMessage(message, transfer);
          waiting.push({ resolve, reject });
        });
    // Handled when awaited, perhaps later; this only keeps Node from calling an early rejection
    // unhandled (which would end the whole worker process).
    reply.catch(() => {});
    return reply;
  };
}
