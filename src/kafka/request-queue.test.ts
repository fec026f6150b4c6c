import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * patches/kafkajs+2.2.4.patch stops kafkajs's request queue from arming a timer when nothing is
 * pending: unpatched, every broker connection re-armed a 1 ms timer forever, with a delay of
 * `-1 - Date.now()` that Node 24 reports as a TimeoutNegativeWarning.
 */
const kafkajs = createRequire(import.meta.url);
const RequestQueue = kafkajs('kafkajs/src/network/requestQueue');

const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** What a request queue needs of a request: its id, and where a request with no response resolves. */
interface Entry {
  correlationId: number;
  resolve(): void;
  reject(error: Error): void;
}

interface Queue {
  throttleCheckTimeoutId: unknown;
  checkPendingRequests(): void;
  maybeThrottle(ms: number): void;
  push(request: { entry: Entry; expectResponse: boolean; sendRequest(): void }): void;
  destroy(): void;
}

describe("kafkajs's request queue, patched", () => {
  let queue: Queue;
  afterEach(() => queue.destroy());

  const newQueue = (): Queue =>
    new RequestQueue({
      maxInFlightRequests: null,
      requestTimeout: 30_000,
      enforceRequestTimeout: false,
      clientId: 'test',
      broker: 'localhost:9092',
      logger: silent,
    });

  it('arms no timer when nothing is pending (as after every response)', () => {
    queue = newQueue();
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still sends a request held by a throttle once the throttle ends', async () => {
    queue = newQueue();
    queue.maybeThrottle(50);
    const throttledAt = Date.now();
    const sentAt = await new Promise<number>((resolve, reject) => {
      const entry = { correlationId: 1, resolve() {}, reject };
      queue.push({ entry, expectResponse: false, sendRequest: () => resolve(Date.now()) });
    });
    expect(sentAt - throttledAt).toBeGreaterThanOrEqual(49);
  });
});
