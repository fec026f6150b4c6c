import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type Handler = (body: { items: Array<{ transaction: { transactionId: string } }> }) => {
  status: number;
  body?: unknown;
  delayMs?: number;
};

/** A stand-in for the external ML API on a local port (real HTTP, real sockets). */
export async function fakeModelApi(handler: Handler) {
  const calls: unknown[] = [];
  const server = http.createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk) => {
      raw += chunk;
    });
    request.on('end', () => {
      const body = JSON.parse(raw);
      calls.push(body);
      const answer = handler(body);
      setTimeout(() => {
        response.writeHead(answer.status, { 'content-type': 'application/json' });
        response.end(JSON.stringify(answer.body ?? {}));
      }, answer.delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/predict`, calls };
}

const servers: http.Server[] = [];

export function closeFakeModelApis(): void {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    server.close();
  }
}
