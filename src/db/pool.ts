import pg from 'pg';
import type { Config } from '../config/config';
import './type-parsers';

/** A pool or one of its checked-out clients (e.g. a transaction's): whatever can run a query. */
export type Queryable = Pick<pg.Pool, 'query'>;

/**
 * A pool whose sessions see tickflow's schema first, so SQL never spells the schema out. A large
 * consumer run's transaction thread connects with the same connectionString and options
 * (transaction-connection.ts): a setting added here that its connection needs goes there too.
 */
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
