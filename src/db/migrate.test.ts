import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli';
import { type TestEnv, testEnv } from '../../test/support';
import { MIGRATIONS_DIR, migrate, readMigrations } from './migrate';

let t: TestEnv;
afterEach(() => t.cleanup());

async function countApplied(env: TestEnv): Promise<Map<string, number>> {
  const client = new pg.Client({ connectionString: env.config.databaseUrl });
  await client.connect();
  const { rows } = await client.query<{ name: string; n: number }>(
    `select name, count(*)::int as n from ${pg.escapeIdentifier(env.id)}.schema_migrations group by name`,
  );
  await client.end();
  return new Map(rows.map((row) => [row.name, row.n]));
}

describe('migrate (real PostgreSQL)', () => {
  it('applies every migration once; a second run is a no-op', async () => {
    t = testEnv('mig');
    const first = await migrate(t.config, t.log);
    expect(first.applied).toEqual(readMigrations().map((m) => m.name));
    const second = await migrate(t.config, t.log);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
  });

  it('creates the tables with transaction_id as the idempotency key', async () => {
    t = testEnv('mig');
    await migrate(t.config, t.log);
    const client = new pg.Client({ connectionString: t.config.databaseUrl });
    await client.connect();
    const { rows } = await client.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 order by 1`,
      [t.id],
    );
    expect(rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['fraud_alerts', 'job_runs', 'predictions', 'transactions']),
    );
    const pk = await client.query<{ column_name: string }>(
      `select kcu.column_name from information_schema.table_constraints tc
       join information_schema.key_column_usage kcu using (constraint_schema, constraint_name)
       where tc.table_schema = $1 and tc.table_name = 'transactions' and tc.constraint_type = 'PRIMARY KEY'`,
      [t.id],
    );
    expect(pk.rows.map((r) => r.column_name)).toEqual(['transaction_id']);
    await client.end();
  });

  it('refuses to run when an applied migration was edited, naming the file', async () => {
    t = testEnv('mig');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-mig-'));
    fs.writeFileSync(path.join(dir, '001_a.sql'), 'create table a (id int);');
    await migrate(t.config, t.log, dir);
    fs.writeFileSync(path.join(dir, '001_a.sql'), 'create table a (id bigint);');
    await expect(migrate(t.config, t.log, dir)).rejects.toThrow(/001_a\.sql was edited after it was applied/);
  });

  it('two `tickflow migrate` processes at once both succeed and apply each migration exactly once', async () => {
    t = testEnv('mig');
    const [a, b] = await Promise.all([runCli(['migrate'], t.env), runCli(['migrate'], t.env)]);
    expect(a.stderr + b.stderr).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    const applied = await countApplied(t);
    for (const name of fs.readdirSync(MIGRATIONS_DIR)) expect(applied.get(name)).toBe(1);
    expect(`${a.stdout}${b.stdout}`).toMatch(/up to date/);
  });

  it('creates the database named in DATABASE_URL when it does not exist', async () => {
    t = testEnv('mig');
    const url = new URL(t.config.databaseUrl);
    url.pathname = `/${t.id}`;
    const config = { ...t.config, databaseUrl: url.toString() };
    await migrate(config, t.log);
    const admin = new pg.Client({ connectionString: t.config.databaseUrl.replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [t.id]);
    await admin.query(`drop database ${pg.escapeIdentifier(t.id)}`);
    await admin.end();
    expect(rowCount).toBe(1);
  });
});
