import { describe, expect, it } from 'vitest';
import { statementOf } from './statement';

describe('statementOf: a PostgreSQL statement’s span name, operation and table', () => {
  it.each([
    ['copy transactions (transaction_id, account_id)\n    from stdin', 'COPY transactions', 'transactions'],
    [
      'insert into account_profiles (account_id, profile) select 1 on conflict do nothing',
      'INSERT account_profiles',
      'account_profiles',
    ],
    ['truncate profile_updates', 'TRUNCATE profile_updates', 'profile_updates'],
    [
      'create temp table profile_updates (account_id text) on commit drop',
      'CREATE profile_updates',
      'profile_updates',
    ],
    ['delete from late_arrivals where stored_at < $1', 'DELETE late_arrivals', 'late_arrivals'],
    [
      'select r.* from unnest($1::uuid[]) as k (key) cross join lateral (select transaction_id from transactions where transaction_id = k.key limit 1) r',
      'SELECT transactions',
      'transactions',
    ],
  ])('%s', (sql, name, table) => {
    expect(statementOf(sql)).toMatchObject({ name, table });
  });

  it('names a statement without a table by its operation alone', () => {
    expect(statementOf('commit')).toEqual({ name: 'COMMIT', operation: 'COMMIT', text: 'commit' });
    expect(statementOf('select pg_backend_pid() as pid, now()::text as since').name).toBe('SELECT');
  });

  it('collapses whitespace in the statement text', () => {
    expect(statementOf('  copy  fraud_alerts\n (transaction_id)\n\tfrom stdin ').text).toBe(
      'copy fraud_alerts (transaction_id) from stdin',
    );
  });
});
