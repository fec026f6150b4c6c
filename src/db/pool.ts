import pg from 'pg';
import type { Config } from '../config/config';

// NUMERIC comes back as a string by default; amounts here fit a double with 2 decimals.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (value) => Number(value));
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A pool or one of its checked-out clients (e.g. a transaction's): whatever can run a query. */
export type Queryable = Pick<pg.Pool, 'query'>;

/** A pool whose sessions see tickflow's schema first, so SQL never spells the schema out. */
export function createPool(config: Pick<Config, 'databaseUrl' | 'databaseSchema'>, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl,
    options: `-c search_path=${config.databaseSchema},public`,
    max,
  });
  // A client losing its connection must not crash the process, idle (the pool's 'error') or checked
  // out (its own 'error', e.g. PostgreSQL stopped mid-transaction): the query in flight rejects.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}
