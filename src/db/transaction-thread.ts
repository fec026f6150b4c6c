/**
 * A thread that holds one PostgreSQL connection (startThread('src/db/transaction-thread'), see
 * onThread in transaction-connection.ts): it runs the statements and COPYs it is sent, one after
 * another, and answers each in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import pg from 'pg';
import {
  onClient,
  type TransactionReply,
  type TransactionRequest,
  type TransactionThreadData,
} from './transaction-connection';
import './type-parsers';

const client = new pg.Client(workerData as TransactionThreadData);
// A lost connection fails the request in flight; it must not end the thread before it answers.
client.on('error', () => {});
const connected = client.connect();
// A failed connect fails each request (handle awaits it), not the thread.
connected.catch(() => {});
const connection = onClient(client, () => client.end());

// The connection runs requests in the order they came (see onClient); each is answered in that
// order too, after the one before it.
let answered: Promise<unknown> = Promise.resolve();
const answer = (result: Promise<TransactionReply>) => {
  const replied = result.catch((error: unknown) => ({ error: errorFields(error) }));
  answered = answered.then(() => replied).then(reply);
};
parentPort?.on('message', (request: TransactionRequest) => answer(handle(request)));
// A request that arrived unreadable is answered too, or the caller would wait for it forever.
parentPort?.on('messageerror', (error) => answer(Promise.reject(error)));

async function handle(request: TransactionRequest): Promise<TransactionReply> {
  await connected;
  if (request.op === 'query') return { rows: (await connection.query(request.sql, request.params)).rows };
  if (request.op === 'copy') {
    const chunks = request.chunks.map((chunk) =>
      Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
    await connection.copyFrom(request.sql, chunks);
    return {};
  }
  await connection.release();
  return {};
}

function reply(message: TransactionReply): void {
  try {
    parentPort?.postMessage(message);
  } catch (error) {
    // Rows that cannot be cloned: the caller still gets an answer, in its place.
    parentPort?.postMessage({ error: errorFields(error) });
  }
}

/** What a pg error says, as plain data (an Error's own fields do not survive postMessage). */
function errorFields(error: unknown): { message: string } & Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const { code, constraint, table, detail, severity } = error as Error & Record<string, unknown>;
  return { message: error.message, code, constraint, table, detail, severity };
}
