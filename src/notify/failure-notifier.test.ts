import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type FailedRun, FailureNotifier, shouldNotify } from './failure-notifier';

interface Received {
  method: string | undefined;
  path: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** A webhook receiver on 127.0.0.1 answering each request with the next reply (the last one repeats). */
async function receiver(
  replies: (number | 'hang' | ((res: http.ServerResponse) => void))[],
  onRequest?: () => void,
) {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        method: req.method,
        path: req.url,
        contentType: req.headers['content-type'],
        body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      });
      onRequest?.();
      const reply = replies[Math.min(received.length, replies.length) - 1];
      if (reply === 'hang') return;
      if (typeof reply === 'function') return reply(res);
      res.writeHead(reply ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  servers.push(server);
  return { received, url: `http://127.0.0.1:${port}/hooks/s3cr3t-token?key=abc`, port };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A logger whose lines the test can read. */
function capturingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

const run: FailedRun = {
  schedule: 'consumer batch',
  runId: 'run/42',
  jobType: 'consumer-batch',
  attempts: 3,
  error: 'broker unreachable',
  failedAt: new Date('2025-01-02T03:04:05.678Z'),
  consecutiveFailures: 3,
};

const fast = { backoffMs: 5, timeoutMs: 2_000 };

describe('shouldNotify', () => {
  it('fires once per streak, when it reaches after', () => {
    expect([1, 2, 3, 4, 5].map((n) => shouldNotify(n, 3))).toEqual([false, false, true, false, false]);
    expect(shouldNotify(1, 1)).toBe(true);
    expect(shouldNotify(2, 1)).toBe(false);
  });
});

describe('FailureNotifier', () => {
  it('POSTs the run as JSON, with a link to it in the UI', async () => {
    const hook = await receiver([204]);
    const { log } = capturingLog();
    const notifier = new FailureNotifier({ log, linkBase: 'http://127.0.0.1:3000/', ...fast });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('sent');
    expect(hook.received).toEqual([
      {
        method: 'POST',
        path: '/hooks/s3cr3t-token?key=abc',
        contentType: 'application/json',
        body: {
          event: 'run_failed',
          schedule: 'consumer batch',
          runId: 'run/42',
          jobType: 'consumer-batch',
          attempts: 3,
          error: 'broker unreachable',
          failedAt: '2025-01-02T03:04:05.678Z',
          consecutiveFailures: 3,
          link: 'http://127.0.0.1:3000/schedules#run=consumer%20batch/run%2F42',
        },
      },
    ]);
  });

  it('leaves the link out without a linkBase', async () => {
    const hook = await receiver([200]);
    const notifier = new FailureNotifier({ log: capturingLog().log, ...fast });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('sent');
    expect(hook.received[0]?.body).not.toHaveProperty('link');
  });

  it('is skipped, sending nothing, while the streak is not at after', async () => {
    const hook = await receiver([200]);
    const notifier = new FailureNotifier({ log: capturingLog().log, ...fast });
    const target = { onFailure: hook.url, after: 3 };
    for (const consecutiveFailures of [1, 2, 4, 10]) {
      await expect(notifier.runFailed(target, { ...run, consecutiveFailures })).resolves.toBe('skipped');
    }
    await notifier.drain();
    expect(hook.received).toEqual([]);
  });

  it.each([503, 429])('retries after a %i, then delivers', async (status) => {
    const hook = await receiver([status, 200]);
    const notifier = new FailureNotifier({ log: capturingLog().log, ...fast });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('sent');
    expect(hook.received).toHaveLength(2);
    expect(hook.received[1]?.body).toEqual(hook.received[0]?.body);
  });

  it('gives up after `attempts` 500s, resolving failed and logging the origin only', async () => {
    const hook = await receiver([500]);
    const { log, lines } = capturingLog();
    const notifier = new FailureNotifier({ log, attempts: 4, ...fast });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('failed');
    expect(hook.received).toHaveLength(4);
    const warnings = lines.filter((line) => line.level === 40);
    expect(warnings).toEqual([
      expect.objectContaining({
        schedule: 'consumer batch',
        origin: `http://127.0.0.1:${hook.port}`,
        attempts: 4,
        reason: 'HTTP 500',
      }),
    ]);
    expect(JSON.stringify(lines)).not.toMatch(/s3cr3t|key=abc/);
  });

  it.each([400, 404])('does not retry a %i', async (status) => {
    const hook = await receiver([status, 200]);
    const notifier = new FailureNotifier({ log: capturingLog().log, ...fast });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('failed');
    expect(hook.received).toHaveLength(1);
  });

  it('retries a receiver that does not answer in time', async () => {
    const hook = await receiver(['hang', 200]);
    const notifier = new FailureNotifier({ log: capturingLog().log, backoffMs: 5, timeoutMs: 100 });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('sent');
    expect(hook.received).toHaveLength(2);
  });

  it('resolves failed, without throwing, when nothing listens or the URL is unusable', async () => {
    const hook = await receiver([200]);
    const closed = servers.pop() as http.Server;
    await new Promise((resolve) => closed.close(resolve));
    const { log, lines } = capturingLog();
    const notifier = new FailureNotifier({ log, attempts: 2, ...fast });
    await expect(notifier.runFailed({ onFailure: hook.url, after: 3 }, run)).resolves.toBe('failed');
    await expect(notifier.runFailed({ onFailure: 'ftp://example.com/s3cr3t', after: 3 }, run)).resolves.toBe(
      'failed',
    );
    await expect(
      notifier.runFailed({ onFailure: hook.url, after: 3 }, { ...run, failedAt: new Date(Number.NaN) }),
    ).resolves.toBe('failed');
    expect(lines.filter((line) => line.level === 40)).toHaveLength(3);
    expect(JSON.stringify(lines)).not.toMatch(/s3cr3t|key=abc/);
  });

  it('drain waits for notifications still being sent', async () => {
    let answer: (() => void) | undefined;
    let arrived!: () => void;
    const requestArrived = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const hook = await receiver(
      [
        (res) => {
          answer = () => res.writeHead(200).end();
        },
      ],
      () => arrived(),
    );
    const notifier = new FailureNotifier({ log: capturingLog().log, ...fast });
    await notifier.drain(); // nothing in flight: resolves at once

    let outcome: string | undefined;
    void notifier.runFailed({ onFailure: hook.url, after: 3 }, run).then((o) => {
      outcome = o;
    });
    let drained = false;
    const draining = notifier.drain().then(() => {
      drained = true;
    });
    await requestArrived;
    await new Promise((resolve) => setImmediate(resolve));
    expect(drained).toBe(false);

    answer?.();
    await draining;
    expect(outcome).toBe('sent');
  });
});
