import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transferable } from 'node:worker_threads';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { requester, startThread } from '../runtime/threads';
import { tracing } from '../telemetry/tracing';

/** What onThread sends the transaction thread (transaction-thread.ts) when it starts it. */
export interface TransactionThreadData {
  connectionString?: string;
  /** The pool's session options (its search_path). */
  options?: string;
  application_name: string;
}

export type TransactionRequest =
  | { op: 'query'; sql: string; params?: unknown[] }
  | { op: 'copy'; sql: string; chunks: Uint8Array[] }
  | { op: 'end' };

/** A failed request carries the error's PostgreSQL fields (code, constraint…), which callers test. */
export type TransactionReply =
  | { rows?: unknown[] }
  | { error: { message: string } & Record<string, unknown> };

/**
 * The one connection a long write (a consumer run's transaction) holds: statements and COPYs run in
 * the order asked. Either in this process (a pooled client) or on a thread of its own, whose event
 * loop does nothing but this connection's I/O (see onThread).
 */
export interface TransactionConnection {
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: Row[] }>;
  /** COPY … FROM STDIN with these chunks of COPY data; none: no statement at all. */
  copyFrom(sql: string, chunks: Buffer[]): Promise<void>;
  /** Gives the connection back: to the pool, or closes the thread and its connection. */
  release(): Promise<void>;
}

/**
 * The connection with each statement as a span when traces are on (see src/telemetry), from when it
 * is asked to when it ends: statements asked together wait their turn on the one connection. Off,
 * the connection itself.
 */
export function traced(connection: TransactionConnection): TransactionConnection {
  const traces = tracing();
  if (!traces) return connection;
  return {
    query: <Row>(sql: string, params?: unknown[]) =>
      traces.postgres(sql, () => connection.query<Row>(sql, params)),
    copyFrom: (sql, chunks) => {
      if (chunks.length === 0) return connection.copyFrom(sql, chunks);
      // Counted before the COPY: a thread's takes the chunks' memory.
      const bytes = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
      return traces.postgres(sql, () => connection.copyFrom(sql, chunks), bytes);
    },
    release: () => connection.release(),
  };
}

/** A connection checked out of the pool, used on this thread. */
export async function pooled(db: pg.Pool): Promise<TransactionConnection> {
  return onClient(await db.connect(), async (client) => client.release());
}

/**
 * A pg client as a TransactionConnection (the pool's, or the one a transaction thread holds). Calls
 * may come before the ones before them have ended: they run in the order made (pg itself no longer
 * takes a query while one is running).
 */
export function onClient<Client extends pg.ClientBase>(
  client: Client,
  release: (client: Client) => Promise<void>,
): TransactionConnection {
  let last: Promise<unknown> = Promise.resolve();
  const inOrder = <T>(work: () => Promise<T>): Promise<T> => {
    const done = last.then(work);
    last = done.catch(() => {});
    return done;
  };
  return {
    query: <Row>(sql: string, params?: unknown[]) =>
      inOrder(async () => ({ rows: (await client.query(sql, params)).rows as Row[] })),
    copyFrom: (sql, chunks) =>
      inOrder(async () => {
        if (chunks.length > 0) await pipeline(Readable.from(chunks), client.query(copyFrom(sql)));
      }),
    release: () => inOrder(() => release(client)),
  };
}

/**
 * A connection held by a thread of its own (src/db/transaction-thread.ts). On the job's thread, each
 * COPY's data went to the socket, and each statement's reply was read, only between the run's other
 * work: PostgreSQL then waited for that thread to come back to its event loop (200,000-message run:
 * the transaction's backend used ~3.3 s of CPU in ~7 s of COPYs). A thread that does nothing else
 * answers at once, and runs the statements asked together back to back. COPY data moves to the
 * thread where it can: the chunks are the caller's no more.
 */
export function onThread(db: pg.Pool): TransactionConnection {
  const { connectionString, options } = db.options;
  const data: TransactionThreadData = { connectionString, options, application_name: TRANSACTION_THREAD };
  const thread = startThread('src/db/transaction-thread', data, THREAD_LIMITS);
  const ask = requester<TransactionRequest, TransactionReply>(thread, 'transaction thread');
  const call = async (request: TransactionRequest, transfer?: Transferable[]) => {
    const reply = await ask(request, transfer);
    if ('error' in reply) throw Object.assign(new Error(reply.error.message), reply.error);
    return reply;
  };
  return {
    query: async <Row>(sql: string, params?: unknown[]) => {
      const { rows } = await call({ op: 'query', sql, params });
      return { rows: rows as Row[] };
    },
    async copyFrom(sql, chunks) {
      if (chunks.length > 0) await call({ op: 'copy', sql, chunks }, chunks.flatMap(ownMemory));
    },
    async release() {
      // Its connection closed first; a thread that died has closed it already (and PostgreSQL has
      // rolled back what it held).
      await call({ op: 'end' }).catch(() => {});
      await thread.terminate();
    },
  };
}

/** The thread's connection names itself so in pg_stat_activity. */
export const TRANSACTION_THREAD = 'tickflow transaction thread';

/**
 * A chunk's memory, to move to the thread rather than copy, when no other buffer shares it: a small
 * Buffer is a slice of a shared pool (Buffer.poolSize, 8 KB), always shorter than the pool.
 */
function ownMemory(chunk: Buffer): ArrayBuffer[] {
  const memory = chunk.buffer;
  return memory instanceof ArrayBuffer && chunk.byteLength === memory.byteLength ? [memory] : [];
}

/**
 * The thread's garbage is short-lived (replies, the small chunks copied to it), and V8 would let its
 * young generation grow to tens of MB: 200,000-message run, peak RSS ~290 MB at 8 MB, ~263 at 2 MB.
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 2 };
