import { describe, expect, it } from 'vitest';
import { malformed } from '../domain/malformed';
import { Random } from '../domain/random';
import { simulate } from '../domain/simulator';
import { parseTransaction, transactionSchema } from '../domain/transaction';
import { fastTransaction, parseValue } from './fast-transaction';

const [base] = simulate({ count: 1, fraudRate: 0, seed: 5 });
const valid = { ...base, county: 'Nairobi', deviceId: 'dev-1', label: { fraud: false, pattern: null } };

/** Field → values to put there (undefined: leave the field out). */
const variants: Record<string, unknown[]> = {
  transactionId: [
    undefined,
    null,
    42,
    '',
    'not-a-uuid',
    '0B5C9F8E-1234-4ABC-8DEF-0123456789AB',
    '0b5c9f8e-1234-0abc-8def-0123456789ab',
    '0b5c9f8e-1234-4abc-cdef-0123456789ab',
    '00000000-0000-0000-0000-000000000000',
    'ffffffff-ffff-ffff-ffff-ffffffffffff',
    ' 0b5c9f8e-1234-4abc-8def-0123456789ab',
  ],
  accountId: [
    undefined,
    null,
    7,
    '',
    'a'.repeat(64),
    'a'.repeat(65),
    'a\0b',
    '😀'.repeat(32),
    '😀'.repeat(33),
  ],
  counterparty: [undefined, '', 'x'.repeat(65), 'tab\there'],
  amount: [
    undefined,
    null,
    '10',
    0,
    -1,
    1e12,
    999_999_999_999.99,
    0.1 + 0.2,
    1.005,
    1e-7,
    3.999,
    12.34,
    0.01,
  ],
  currency: [undefined, 'kes', 'KESX', 'KE', 'USD', 5],
  merchant: [undefined, '', 'm'.repeat(120), 'm'.repeat(121), 'back\\slash'],
  category: [undefined, '', 'c'.repeat(40), 'c'.repeat(41)],
  channel: [undefined, 'card', 'mobile_money', 'pigeon', null],
  country: [undefined, 'ke', 'KEN', 'US'],
  county: [undefined, null, '', 'c'.repeat(40), 'c'.repeat(41)],
  deviceId: [undefined, null, '', 'd'.repeat(64), 'd'.repeat(65)],
  timestamp: [
    undefined,
    '2024-01-31T12:00:00Z',
    '2024-01-31T12:00:00.123456789Z',
    '2024-01-31T12:00:00+03:00',
    '2024-01-31T12:00:00',
    '2024-02-29T00:00:00Z',
    '2023-02-29T00:00:00Z',
    '2024-02-30T00:00:00Z',
    '0000-01-01T00:00:00Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59Z',
    '2024-01-31 12:00:00Z',
    '2024-01-31T24:00:00Z',
    1706702400000,
  ],
  source: [undefined, '', 's'.repeat(40), 's'.repeat(41)],
  label: [
    undefined,
    null,
    [],
    {},
    { fraud: true, pattern: 'burst' },
    { fraud: true, pattern: 'phishing' },
    { fraud: 'yes', pattern: null },
    { fraud: false },
    { fraud: false, pattern: null, extra: 1 },
  ],
  extra: [undefined, 1],
};

const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
/** The same answer as the schema, strictly (an optional field absent, not undefined). */
const same = (value: Buffer | null) => expect(parseValue(value)).toStrictEqual(parseTransaction(value));

describe('parseValue answers as parseTransaction (the schema) does', () => {
  it('for simulated transactions, fraud and labels included', () => {
    for (const transaction of simulate({ count: 2_000, fraudRate: 0.2, seed: 3 })) same(bytes(transaction));
  });

  it('takes the usual message itself, not through the schema (a check that took none would pass the rest)', () => {
    for (const transaction of simulate({ count: 2_000, fraudRate: 0.2, seed: 3 }))
      expect(fastTransaction(JSON.parse(JSON.stringify(transaction)))).toStrictEqual(
        transactionSchema.parse(transaction),
      );
  });

  it.each(Object.entries(variants))('for each value of %s, valid or not', (field, values) => {
    for (const value of values) {
      const message: Record<string, unknown> = { ...valid, [field]: value };
      if (value === undefined) delete message[field];
      same(bytes(message));
    }
  });

  it('for what the simulator breaks on purpose, and for what is not a transaction at all', () => {
    const random = new Random(11);
    for (const transaction of simulate({ count: 500, fraudRate: 0.1, seed: 4 }))
      same(Buffer.from(malformed(transaction, random)));
    const others = ['null', '42', '"text"', '[]', '{}', '\uFEFF{}', '{"a":', ''];
    for (const text of others) same(Buffer.from(text));
    same(null);
    same(Buffer.from([0xff, 0xfe]));
    same(Buffer.from(`{"__proto__":{"x":1},${JSON.stringify(valid).slice(1)}`));
  });
});
