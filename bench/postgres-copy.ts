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
 */
export async function copySameRowsAlone(db: pg.Pool, tables = CONSUMER_TABLES): Promise<CopyAlone> {
  const client = await db.connect();
  try {
    const dumps = new Map<string, Buffer>();
    for (const table of tables) dumps.set(table, await copyOut(client, table));
    const counts = await rowCounts(client, tables);
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

async function copyOut(client: pg.PoolClient, table: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  await pipeline(client.query(copyTo(`copy ${table} to stdout`)), sink);
  return Buffer.concat(chunks);
}

async function rowCounts(client: pg.PoolClient, tables: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of tables) {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from ${table}`);
    counts.set(table, rows[0]?.n ?? 0);
  }
  return counts;
}
