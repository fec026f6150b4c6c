import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { serviceCpu, serviceCpuSince } from './service-cpu';

/** The tables consumer-batch writes, parents first (predictions and alerts reference transactions). */
export const CONSUMER_TABLES = ['transactions', 'predictions', 'fraud_alerts', 'account_profiles'];

export interface CopyAlone {
  /** transactions rows written (the unit of consumer-batch's rate). */
  transactions: number;
  /** every table's rows. */
  rows: number;
  bytes: number;
  ms: number;
  /** PostgreSQL's CPU meanwhile: set against its CPU in the run, what the run adds to the writes. */
  postgresCpuMs?: number;
}

/**
 * PostgreSQL's own limit for what consumer-batch stored: its rows are read out (COPY TO), the
 * tables emptied, and the same rows COPYed back into the same tables in ONE transaction, timed.
 * No parsing, scoring or Kafka: what is left is PostgreSQL writing those rows and their indexes.
 * `profilesSince`: only the account histories written since then are the run's (the others were
 * there before it, as in a steady state).
 */
export async function copySameRowsAlone(
  db: pg.Pool,
  { tables = CONSUMER_TABLES, profilesSince }: { tables?: string[]; profilesSince?: Date } = {},
): Promise<CopyAlone> {
  const client = await db.connect();
  try {
    const dumps = new Map<string, Buffer>();
    const counts = new Map<string, number>();
    for (const table of tables) {
      const rows =
        table === 'account_profiles' && profilesSince ? profilesWrittenSince(profilesSince) : table;
      dumps.set(table, await copyOut(client, rows));
      counts.set(table, await rowCount(client, rows));
    }
    await client.query(`truncate ${tables.join(', ')}`);
    const cpuBefore = serviceCpu();
    const started = performance.now();
    await client.query('begin');
    for (const [table, rows] of dumps)
      await pipeline(Readable.from([rows]), client.query(copyFrom(`copy ${table} from stdin`)));
    await client.query('commit');
    const ms = performance.now() - started;
    const postgresCpuMs = serviceCpuSince(cpuBefore)?.postgres;
    return {
      transactions: counts.get('transactions') ?? 0,
      rows: [...counts.values()].reduce((sum, n) => sum + n, 0),
      bytes: [...dumps.values()].reduce((sum, dump) => sum + dump.length, 0),
      ms,
      postgresCpuMs,
    };
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** The account histories a run wrote (created or updated), as a query to COPY out and count. */
function profilesWrittenSince(since: Date): string {
  return `(select * from account_profiles where updated_at >= '${since.toISOString()}'::timestamptz)`;
}

/** `rows`: a table, or a parenthesised query. */
async function copyOut(client: pg.PoolClient, rows: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await pipeline(client.query(copyTo(`copy ${rows} to stdout`)), sink);
  return Buffer.concat(chunks);
}

async function rowCount(client: pg.PoolClient, rows: string): Promise<number> {
  const { rows: result } = await client.query<{ n: number }>(`select count(*)::int as n from ${rows} as r`);
  return result[0]?.n ?? 0;
}
