import { describe, expect, it } from 'vitest';
import { simulate } from './simulator';
import { parseTransaction, withoutLabel } from './transaction';

const sample = () =>
  simulate({ count: 1, fraudRate: 0, seed: 1, endAt: new Date('2025-03-01T12:00:00Z') })[0];
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseTransaction', () => {
  it('accepts what the simulator produces', () => {
    const transaction = sample();
    expect(parseTransaction(bytes(transaction))).toEqual({ ok: true, transaction });
  });

  it.each([
    [{ amount: -5 }, 'amount: expected an amount above 0'],
    [{ amount: 10.123 }, 'amount: expected at most 2 decimals'],
    [{ currency: 'kes' }, 'currency: expected an ISO 4217 code'],
    [{ timestamp: '2025-03-01 12:00' }, 'timestamp: expected ISO 8601 UTC'],
    [{ transactionId: 'TXN-1' }, 'transactionId: expected a UUID'],
    [{ channel: 'fax' }, 'channel:'],
    [{ extra: 1 }, 'extra'],
    // Values PostgreSQL would refuse must be caught here, or the batch would fail on every run.
    [{ amount: 1e12 }, 'amount: expected an amount below'],
    [{ merchant: 'Shop\u0000' }, 'merchant: must not contain a NUL character'],
    [{ timestamp: '0000-01-01T00:00:00Z' }, 'timestamp: expected a year from 0001 to 9999'],
  ])('names the field and the fix for %j', (change, expected) => {
    const result = parseTransaction(bytes({ ...sample(), ...change }));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toContain(expected);
  });

  it('reports a missing field, broken JSON and an empty message', () => {
    const { accountId: _accountId, ...rest } = sample() as NonNullable<ReturnType<typeof sample>>;
    expect(parseTransaction(bytes(rest))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('accountId'),
    });
    expect(parseTransaction(Buffer.from('{"transactionId":'))).toMatchObject({
      reason: expect.stringMatching(/^not JSON/),
    });
    expect(parseTransaction(null)).toMatchObject({ ok: false, reason: 'empty message (null value)' });
  });

  it('withoutLabel hides the ground truth from predictors', () => {
    const transaction = sample() as NonNullable<ReturnType<typeof sample>>;
    expect(transaction.label).toBeDefined();
    expect(withoutLabel(transaction)).not.toHaveProperty('label');
  });
});
