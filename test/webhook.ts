import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface Webhook {
  /** The URL to give notify: (with a path and query that a token could be in). */
  url: string;
  /** Each JSON body received, in order. */
  bodies: Record<string, unknown>[];
  /** The bodies of one event (and schedule). */
  of(event: string, schedule?: string): Record<string, unknown>[];
}

/** A webhook receiver on loopback that records each JSON body it gets; closed when the test ends. */
export async function webhook(): Promise<Webhook> {
  const bodies: Record<string, unknown>[] = [];
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook?token=secret`,
    bodies,
    of: (event, schedule) =>
      bodies.filter((body) => body.event === event && (schedule === undefined || body.schedule === schedule)),
  };
}
