import { formatDuration } from '../schedules/duration';

export class RunTimeoutError extends Error {
  override name = 'RunTimeoutError';
  constructor(readonly ms: number) {
    super(`run timed out after ${formatDuration(ms)} and was aborted`);
  }
}

/**
 * Runs `work` with a signal that aborts after `ms` (or when `outer` aborts). The timeout is hard:
 * the returned promise rejects with RunTimeoutError on time even if `work` ignores its signal.
 */
export async function withTimeout<T>(
  ms: number,
  outer: AbortSignal | undefined,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RunTimeoutError(ms)), ms);
  const forwardOuter = () => controller.abort(outer?.reason);
  // An outer signal aborted already (a run cancelled before it started) fires no event.
  if (outer?.aborted) forwardOuter();
  else outer?.addEventListener('abort', forwardOuter, { once: true });
  const aborted = new Promise<never>((_, reject) => {
    const fail = () => reject(controller.signal.reason);
    if (controller.signal.aborted) fail();
    else controller.signal.addEventListener('abort', fail, { once: true });
  });
  try {
    return await Promise.race([work(controller.signal), aborted]);
  } catch (error) {
    // A job that honours the signal rejects with its own AbortError; report why it was aborted.
    throw controller.signal.aborted ? controller.signal.reason : error;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', forwardOuter);
  }
}
