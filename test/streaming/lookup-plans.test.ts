import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate';
import { LOOKUP_SQL } from '../../src/db/scoring-lookups';
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
    for (const table of ['predictions', 'fraud_alerts'])
      await resources.db.query(
        `insert into ${table} (transaction_id, score, ${table === 'predictions' ? 'is_fraud, model' : 'account_id'})
         select transaction_id, 0.5, ${table === 'predictions' ? "false, 'test'" : 'account_id'} from transactions`,
      );
    await resources.db.query('analyze transactions, account_profiles, predictions, fraud_alerts');
  });
  afterAll(async () => {
    await resources.close();
    await t.cleanup();
  });

  const ids = () => Array.from({ length: KEYS }, () => crypto.randomUUID());
  const accounts = () => Array.from({ length: KEYS }, (_, i) => `ACC-${i * 97}`);
  it.each([
    { lookup: 'storedIds', keys: ids, index: 'transactions_pkey' },
    { lookup: 'profiles', keys: accounts, index: 'account_profiles_pkey' },
    { lookup: 'alerts', keys: ids, index: 'fraud_alerts_pkey' },
    { lookup: 'predictions', keys: ids, index: 'predictions_pkey' },
  ] as const)(
    '$lookup probes $index for a piece of keys, never reads a whole table',
    async ({ lookup, keys, index }) => {
      const { rows } = await resources.db.query(`explain (format json) ${LOOKUP_SQL[lookup]}`, [keys()]);
      const plan = JSON.stringify(rows[0]);
      expect(plan).toContain(`"Index Name":"${index}"`);
      expect(plan).not.toContain('Seq Scan');
    },
  );
});
