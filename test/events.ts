import type { EventEmitter } from 'node:events';
import type { Scheduler, SchedulerEvents } from '../src/scheduler/scheduler';
import type { WorkerPoolEvents } from '../src/worker/run-events';
import type { WorkerPool } from '../src/worker/worker-pool';

/**
 * tickflow's typed emitters and their events (one payload each). Spelled out because TypeScript
 * cannot infer an event map back from node's EventEmitter<T> (its methods read T through
 * conditional types): an emitter tests wait on is added here.
 */
type EventsOf<E> = E extends Scheduler ? SchedulerEvents : E extends WorkerPool ? WorkerPoolEvents : never;
type Payload<E, K extends keyof EventsOf<E>> = EventsOf<E>[K] extends [infer P] ? P : never;

export interface EventWait {
  /** Rejects after this long; 15 s unless told. */
  timeoutMs?: number;
  /** What the timeout error says was awaited; the event's name unless told. */
  what?: string;
}

/**
 * Resolves with the payloads of the first `count` `name` events that `accepts` takes, counted from
 * this call on (subscribe before the action that causes them); rejects after `timeoutMs` naming
 * what it waited for and how many it saw.
 */
export function events<E extends Scheduler | WorkerPool, K extends keyof EventsOf<E> & string>(
  emitter: E,
  name: K,
  count: number,
  accepts: (payload: Payload<E, K>) => boolean = () => true,
  { timeoutMs = 15_000, what }: EventWait = {},
): Promise<Array<Payload<E, K>>> {
  // The typed emitter's listener types do not follow a generic K; the untyped view does.
  const untyped = emitter as unknown as EventEmitter;
  const seen: Array<Payload<E, K>> = [];
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      untyped.off(name, listener);
    };
    const listener = (payload: Payload<E, K>) => {
      if (!accepts(payload)) return;
      seen.push(payload);
      if (seen.length < count) return;
      done();
      resolve(seen);
    };
    const timer = setTimeout(() => {
      done();
      const waited = what ?? `${count} × ${name}`;
      reject(
        new Error(`timed out after ${timeoutMs}ms waiting for ${waited} (saw ${seen.length} of ${count})`),
      );
    }, timeoutMs);
    untyped.on(name, listener);
  });
}

/** The payload of the next `name` event that `accepts` takes (see events). */
export async function nextEvent<E extends Scheduler | WorkerPool, K extends keyof EventsOf<E> & string>(
  emitter: E,
  name: K,
  accepts: (payload: Payload<E, K>) => boolean = () => true,
  options: EventWait = {},
): Promise<Payload<E, K>> {
  const [payload] = await events(emitter, name, 1, accepts, { what: name, ...options });
  return payload as Payload<E, K>;
}
