import type { Redis } from 'ioredis';

/**
 * Cancelling a run on whichever worker process holds it. BullMQ's own `cancelJob` reaches only the
 * Worker object in the process that runs the job, so a cancel (the CLI, the API, the grid, Bull
 * Board) leaves a request in Redis where every worker process finds it:
 * - a key per run (`<prefix>:_tickflow:cancel:<schedule>:<runId>`, kept an hour), which a worker
 *   reads as it starts a run (a run cancelled while being taken never starts) and, for the runs it
 *   holds, every second (a pub/sub message lost to a reconnect is caught within a second);
 * - a pub/sub message on `<prefix>:_tickflow:cancel`, which every worker process listens to, so the
 *   one holding the run aborts its signal at once.
 * The worker aborts the run's signal with a CancelledError; runJob records the run as cancelled, by
 * whom, and BullMQ does not retry it. Both sides live here: the control plane and the worker each
 * import this module, never each other.
 */

/** The reason a cancelled run's signal is aborted with; `by` is who cancelled it. */
export class CancelledError extends Error {
  override name = 'CancelledError';
  constructor(readonly by: string) {
    super(`cancelled by ${by}`);
  }
}

/** How long a cancel request waits for a worker to take the run, at most. */
export const CANCEL_REQUEST_TTL_SECONDS = 3_600;

export interface CancelRequest {
  schedule: string;
  runId: string;
  by: string;
}

export const cancelChannel = (prefix: string) => `${prefix}:_tickflow:cancel`;

export const cancelKey = (prefix: string, schedule: string, runId: string) =>
  `${prefix}:_tickflow:cancel:${schedule}:${runId}`;

/**
 * Asks every worker process to cancel the run: the key first (a worker that starts the run after
 * this finds it), then the message (the worker already running it aborts it at once). Resolves with
 * how many worker processes heard the message.
 */
export async function requestCancel(redis: Redis, prefix: string, request: CancelRequest): Promise<number> {
  const { schedule, runId, by } = request;
  const [stored, published] = (await redis
    .multi()
    .set(cancelKey(prefix, schedule, runId), by, 'EX', CANCEL_REQUEST_TTL_SECONDS)
    .publish(cancelChannel(prefix), JSON.stringify(request))
    .exec()) ?? [
    [null, 0],
    [null, 0],
  ];
  // Without the key, a worker that starts the run later would never hear of the cancel.
  if (stored?.[0]) throw stored[0];
  if (published?.[0]) throw published[0];
  return Number(published?.[1] ?? 0);
}

/** The request is answered (the run ended, or left the queue): nothing is left to cancel. */
export async function forgetCancel(
  redis: Redis,
  prefix: string,
  schedule: string,
  runId: string,
): Promise<void> {
  await redis.del(cancelKey(prefix, schedule, runId));
}

/** A cancel message as published, or undefined for anything else on the channel. */
export function parseCancelRequest(message: string): CancelRequest | undefined {
  try {
    const parsed = JSON.parse(message) as Partial<CancelRequest>;
    const { schedule, runId, by } = parsed;
    if (typeof schedule === 'string' && typeof runId === 'string' && typeof by === 'string')
      return { schedule, runId, by };
  } catch {
    // not ours
  }
  return undefined;
}
