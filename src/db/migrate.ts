import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config/config';
import type { Logger } from '../log/logger';
import { projectPath } from '../paths';

export const MIGRATIONS_DIR = projectPath('migrations');

class MigrationError extends Error {
  override name = 'MigrationError';
}

interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d+_[\w-]+\.sql$/.test(name))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name), 'utf8');
      return { name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** Creates the database named in DATABASE_URL when missing; a concurrent creator is not an error. */
async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const url = new URL(databaseUrl);
  const database = decodeURIComponent(url.pathname.slice(1)) || 'postgres';
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount) return false;
    await client.query(`create database ${pg.escapeIdentifier(database)}`);
    return true;
  } catch (error) {
    // 42P04 duplicate_database / 23505 unique_violation: another process created it first.
    const code = (error as { code?: string }).code;
    if (code === '42P04' || code === '23505') return false;
    throw error;
  } finally {
    await client.end();
  }
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: string[];
}

/**
 * Applies pending migrations in file-name order, each in its own transaction, under an
 * advisory lock so that concurrent migrators queue instead of racing.
 */
export async function migrate(
  config: Pick<Config, 'databaseUrl' | 'databaseSchema'>,
  log: Logger,
  dir = MIGRATIONS_DIR,
): Promise<MigrateResult> {
  const files = readMigrations(dir);
  await ensureDatabase(config.databaseUrl);
  const schema = pg.escapeIdentifier(config.databaseSchema);
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  const lockKey = `tickflow-migrate:${config.databaseSchema}`;
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`create schema if not exists ${schema}`);
    await client.query(`set search_path to ${schema}, public`);
    await client.query(`create table if not exists schema_migrations (
      name text primary key, checksum text not null, applied_at timestamptz not null default now())`);
    const { rows } = await client.query<{ name: string; checksum: string }>(
      'select name, checksum from schema_migrations',
    );
    const done = new Map(rows.map((row) => [row.name, row.checksum]));
    assertUnchanged(files, done, dir);

    const result: MigrateResult = {
      applied: [],
      alreadyApplied: files.filter((f) => done.has(f.name)).map((f) => f.name),
    };
    for (const file of files.filter((f) => !done.has(f.name))) {
      await applyOne(client, file);
      log.info({ migration: file.name, schema: config.databaseSchema }, `applied migration ${file.name}`);
      result.applied.push(file.name);
    }
    return result;
  } finally {
    await client.query('select pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
    await client.end();
  }
}

function assertUnchanged(files: MigrationFile[], done: Map<string, string>, dir: string): void {
  for (const file of files) {
    const recorded = done.get(file.name);
    if (recorded && recorded !== file.checksum) {
      throw new MigrationError(
        `Migration ${path.join(dir, file.name)} was edited after it was applied (checksum differs). ` +
          'Restore the file and put the change in a new migration file instead.',
      );
    }
  }
}

async function applyOne(client: pg.Client, file: MigrationFile): Promise<void> {
  await client.query('begin');
  try {
    await client.query(file.sql);
    await client.query('insert into schema_migrations (name, checksum) values ($1, $2)', [
      file.name,
      file.checksum,
    ]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw new MigrationError(`Migration ${file.name} failed: ${(error as Error).message}`);
  }
}
