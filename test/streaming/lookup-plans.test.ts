import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate';
import { LOOKUP_SQL } from '../../src/db/scoring-store';
import { Resources } from '../../src/runtime/resources';
import { type TestEnv, testEnv } from '../support';

/** A table as a deployment has it after some days: many committed rows, analyzed by autovacuum. */
const ROWS = 100_000;
/** A piece's keys (see PIECE in jobs/consumer-batch.ts). */
const KEYS = 1_000;

describe("a consumer run's lookups on tables of committed, analyzed rows", () => {
  let t: TestEnv;
  let resources: Resources;
  beforeAll(async () => {
    t = testEnv('plans');
    await migrate(t.config, t.log);
    resources = new Resources(t.config, t.log);
    await resources.db.query(
      `insert into transactions (transaction_id, account_id, counterparty, amount, currency, merchant, category,
         channel, country, occurred_at, source)
       select gen_random_uuid(), 'ACC-' || g, 'c', 10, 'KES', 'm', 'food', 'card', 'KE', now(), 'test'
         from generate_series(1, ${ROWS}) g`,
    );
    await resources.db.query(
      `insert into account_profiles (account_id, profile)
       select 'ACC-' || g, '{"count":1,"meanLogAmount":1,"devices":[],"countries":[],"recent":[]}'
         from generate_series(1, ${ROWS}) g`,
    );
    await resources.db.query('analyze transactions; analyze account_profiles');
  });
  afterAll(async () => {
    await resources.close();
    await t.cleanup();
  });

  const planOf = async (sql: string, keys: string[]) => {
    const { rows } = await resources.db.query(`explain (format json) ${sql}`, [keys]);
    return JSON.stringify(rows[0]);
  };

  it('probes the primary key for a piece of transaction ids, never reads the whole table', async () => {
    const plan = await planOf(
      LOOKUP_SQL.storedIds,
      Array.from({ length: KEYS }, () => crypto.randomUUID()),
    );
    expect(plan).toContain('"Index Name":"transactions_pkey"');
    expect(plan).not.toContain('Seq Scan');
  });

  it('probes the primary key for a piece of accounts, never reads the whole table', async () => {
    const plan = await planOf(
      LOOKUP_SQL.profiles,
      Array.from({ length: KEYS }, (_, i) => `ACC-${i * 97}`),
    );
    expect(plan).toContain('"Index Name":"account_profiles_pkey"');
    expect(plan).not.toContain('Seq Scan');
  });
});
