import { z } from 'zod';

/** The channels a transaction can come through; mobile money is M-Pesa style phone-to-phone. */
export const channels = ['mobile_money', 'card', 'online', 'bank_transfer'] as const;
export type Channel = (typeof channels)[number];

/** The fraud patterns the simulator writes as ground truth. */
export const fraudPatterns = ['amount_spike', 'burst', 'new_device_abroad_night'] as const;
export type FraudPattern = (typeof fraudPatterns)[number];

/**
 * The contract's rules that the consumer's hand check (src/consumer/fast-transaction.ts) applies too:
 * one definition for both.
 */
export const hasAtMostTwoDecimals = (amount: number) =>
  Math.abs(Math.round(amount * 100) - amount * 100) < 1e-6;
/** numeric(14, 2) holds up to 999,999,999,999.99. */
export const AMOUNT_BELOW = 1e12;
export const CURRENCY_CODE = /^[A-Z]{3}$/;
export const COUNTRY_CODE = /^[A-Z]{2}$/;
/** Longest text per field (what the columns are sized for). */
export const TEXT_MAX = {
  accountId: 64,
  counterparty: 64,
  merchant: 120,
  category: 40,
  county: 40,
  deviceId: 64,
  source: 40,
} as const;

/**
 * Text PostgreSQL can store: a NUL byte passes JSON and zod but fails the COPY, which would fail the
 * whole batch on every run. Validation must catch everything the database would refuse, so that
 * such a message goes to the dead-letter topic instead of blocking its partition.
 */
const text = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((value) => !value.includes('\0'), 'must not contain a NUL character');

/** Years PostgreSQL's timestamptz accepts for sure (it refuses year 0). */
export const storableYear = (timestamp: string) => {
  const year = Number(timestamp.slice(0, 4));
  return year >= 1 && year <= 9999;
};

/**
 * The transaction message: the one contract for the producer, the consumer and the HTTP predictor.
 * JSON on Kafka, keyed by account id. `label` is the simulator's ground truth: stored to measure
 * precision and recall, never read by a predictor (see `withoutLabel`).
 */
export const transactionSchema = z.strictObject({
  // Lower-cased: PostgreSQL answers uuids in lower case, and the same id in two cases must still be
  // recognised as stored (or seen) rather than COPYed twice into the primary key.
  transactionId: z.uuid({ message: 'expected a UUID, e.g. 0b5c9f8e-…' }).transform((id) => id.toLowerCase()),
  accountId: text(TEXT_MAX.accountId),
  counterparty: text(TEXT_MAX.counterparty),
  amount: z
    .number()
    .positive('expected an amount above 0')
    .lt(AMOUNT_BELOW, 'expected an amount below 1,000,000,000,000')
    .refine(hasAtMostTwoDecimals, 'expected at most 2 decimals'),
  currency: z.string().regex(CURRENCY_CODE, 'expected an ISO 4217 code such as KES'),
  merchant: text(TEXT_MAX.merchant),
  category: text(TEXT_MAX.category),
  channel: z.enum(channels),
  country: z.string().regex(COUNTRY_CODE, 'expected an ISO 3166 alpha-2 code such as KE'),
  /** The account's home market (a Kenyan county such as Nairobi): what rollups group volumes by. */
  county: text(TEXT_MAX.county).optional(),
  deviceId: text(TEXT_MAX.deviceId).optional(),
  timestamp: z.iso
    .datetime({ message: 'expected ISO 8601 UTC, e.g. 2025-01-31T12:00:00.000Z' })
    .refine(storableYear, 'expected a year from 0001 to 9999'),
  source: text(TEXT_MAX.source),
  label: z.strictObject({ fraud: z.boolean(), pattern: z.enum(fraudPatterns).nullable() }).optional(),
});

export type Transaction = z.infer<typeof transactionSchema>;
/** What a predictor may see: everything but the ground truth. */
export type UnlabelledTransaction = Omit<Transaction, 'label'>;

export function withoutLabel(transaction: Transaction): UnlabelledTransaction {
  const { label: _label, ...rest } = transaction;
  return rest;
}

/**
 * Why a value is not a transaction, as a stable machine-readable name (the dead-letter reason):
 * `empty_value` (null or 0 bytes), `invalid_utf8`, `not_json`, `schema` (JSON that breaks the contract).
 */
export type ParseFailure = 'empty_value' | 'invalid_utf8' | 'not_json' | 'schema';

/** On failure, `reason` is for people: the field and what was expected, or where the bytes went wrong. */
export type ParseResult =
  | { ok: true; transaction: Transaction }
  | { ok: false; failure: ParseFailure; reason: string };

/**
 * Fatal: a byte sequence that is not UTF-8 is refused rather than silently replaced by U+FFFD (which
 * could turn garbage into a valid transaction, or store text that differs from what was sent). A
 * leading byte order mark is kept, so it fails JSON parsing as before rather than being skipped.
 */
export const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses one Kafka message value; a failure names the field and what was expected. */
export function parseTransaction(value: Buffer | null): ParseResult {
  if (value === null) return { ok: false, failure: 'empty_value', reason: 'value is null' };
  if (value.length === 0) return { ok: false, failure: 'empty_value', reason: 'value is empty (0 bytes)' };
  let text: string;
  try {
    text = utf8.decode(value);
  } catch {
    const at = firstInvalidUtf8Byte(value);
    return { ok: false, failure: 'invalid_utf8', reason: `value is not valid UTF-8 at byte ${at}` };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { ok: false, failure: 'not_json', reason: `value is not JSON: ${(error as Error).message}` };
  }
  const parsed = transactionSchema.safeParse(json);
  if (parsed.success) return { ok: true, transaction: parsed.data };
  const problems = parsed.error.issues.map((issue) =>
    issue.path.length > 0 ? `field ${issue.path.join('.')}: ${issue.message}` : issue.message,
  );
  return { ok: false, failure: 'schema', reason: problems.join('; ') };
}

/**
 * The offset (from 0) of the first byte of the first ill-formed UTF-8 sequence, by the rules of the
 * WHATWG decoder (no overlong forms, no surrogates, nothing above U+10FFFF, no cut-off sequence);
 * -1 when the bytes are valid. Only called once the decoder has refused them, to say where.
 */
export function firstInvalidUtf8Byte(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i] as number;
    if (lead < 0x80) {
      i++;
      continue;
    }
    let following: number;
    let lower = 0x80;
    let upper = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) following = 1;
    else if (lead >= 0xe0 && lead <= 0xef) {
      following = 2;
      if (lead === 0xe0) lower = 0xa0;
      if (lead === 0xed) upper = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      following = 3;
      if (lead === 0xf0) lower = 0x90;
      if (lead === 0xf4) upper = 0x8f;
    } else return i;
    for (let k = 1; k <= following; k++) {
      const next = bytes[i + k];
      if (next === undefined || next < lower || next > upper) return i;
      lower = 0x80;
      upper = 0xbf;
    }
    i += following + 1;
  }
  return -1;
}
