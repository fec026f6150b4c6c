import { describe, expect, it } from 'vitest';
import { simulate } from './simulator';
import { firstInvalidUtf8Byte, parseTransaction, withoutLabel } from './transaction';

const sample = () =>
  simulate({ count: 1, fraudRate: 0, seed: 1, endAt: new Date('2025-03-01T12:00:00Z') })[0];
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseTransaction', () => {
  it('accepts what the simulator produces', () => {
    const transaction = sample();
    expect(parseTransaction(bytes(transaction))).toEqual({ ok: true, transaction });
  });

  it('reads a transaction id in upper case as the same id in lower case (as PostgreSQL answers it)', () => {
    const transaction = sample() as NonNullable<ReturnType<typeof sample>>;
    const shouted = { ...transaction, transactionId: transaction.transactionId.toUpperCase() };
    expect(parseTransaction(bytes(shouted))).toEqual({ ok: true, transaction });
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
    expect(result).toMatchObject({ ok: false, failure: 'schema' });
    expect(!result.ok && result.reason).toContain(expected);
  });

  it('reports a missing field, broken JSON and an empty message, each under its own name', () => {
    const { accountId: _accountId, ...rest } = sample() as NonNullable<ReturnType<typeof sample>>;
    expect(parseTransaction(bytes(rest))).toMatchObject({
      ok: false,
      failure: 'schema',
      reason: expect.stringContaining('field accountId:'),
    });
    expect(parseTransaction(Buffer.from('{"transactionId":'))).toMatchObject({
      failure: 'not_json',
      reason: expect.stringMatching(/^value is not JSON: /),
    });
    expect(parseTransaction(null)).toEqual({ ok: false, failure: 'empty_value', reason: 'value is null' });
    expect(parseTransaction(Buffer.alloc(0))).toEqual({
      ok: false,
      failure: 'empty_value',
      reason: 'value is empty (0 bytes)',
    });
    // Whitespace is a value, just not JSON.
    expect(parseTransaction(Buffer.from(' '))).toMatchObject({ failure: 'not_json' });
  });

  it('refuses bytes that are not UTF-8 rather than replacing them, and says where', () => {
    const valid = bytes({ ...sample(), merchant: 'Café Ñandú 😀' });
    expect(parseTransaction(valid).ok).toBe(true);
    const broken = Buffer.concat([Buffer.from('{"merchant":"Caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    expect(parseTransaction(broken)).toEqual({
      ok: false,
      failure: 'invalid_utf8',
      reason: 'value is not valid UTF-8 at byte 16',
    });
  });

  it.each([
    ['valid ASCII and multi-byte text', Buffer.from('aé€😀z'), -1],
    ['a lone continuation byte', Buffer.from([0x61, 0x80]), 1],
    ['an overlong encoding of "/"', Buffer.from([0x61, 0x62, 0xc0, 0xaf]), 2],
    ['a UTF-16 surrogate', Buffer.from([0xed, 0xa0, 0x80]), 0],
    ['a code point above U+10FFFF', Buffer.from([0x61, 0xf4, 0x90, 0x80, 0x80]), 1],
    ['a sequence cut off at the end', Buffer.from([0x61, 0x62, 0x63, 0xe2, 0x82]), 3],
    ['a sequence cut off by ASCII', Buffer.from([0xe2, 0x41, 0x42]), 0],
    ['0xff', Buffer.from([0x7b, 0xff]), 1],
  ])('firstInvalidUtf8Byte: %s', (_name, input, expected) => {
    expect(firstInvalidUtf8Byte(input)).toBe(expected);
    // Agrees with the decoder the parser uses on whether the bytes are valid.
    const decodes = (() => {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(input);
        return true;
      } catch {
        return false;
      }
    })();
    expect(decodes).toBe(expected === -1);
  });

  it('withoutLabel hides the ground truth from predictors', () => {
    const transaction = sample() as NonNullable<ReturnType<typeof sample>>;
    expect(transaction.label).toBeDefined();
    expect(withoutLabel(transaction)).not.toHaveProperty('label');
  });
});
