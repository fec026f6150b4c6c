import { z } from 'zod';

/** The channels a transaction can come through; mobile money is M-Pesa style phone-to-phone. */
export const channels = ['mobile_money', 'card', 'online', 'bank_transfer'] as const;
export type Channel = (typeof channels)[number];

/** The fraud patterns the simulator writes as ground truth. */
export const fraudPatterns = ['amount_spike', 'burst', 'new_device_abroad_night'] as const;
export type FraudPattern = (typeof fraudPatterns)[number];

const hasAtMostTwoDecimals = (amount: number) => Math.abs(Math.round(amount * 100) - amount * 100) < 1e-6;

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
const storableYear = (timestamp: string) => {
  const year = Number(timestamp.slice(0, 4));
  return year >= 1 && year <= 9999;
};

/**
 * The transaction message: the one contract for the producer, the consumer and the HTTP predictor.
 * JSON on Kafka, keyed by account id. `label` is the simulator's ground truth: stored to measure
 * precision and recall, never read by a predictor (see `withoutLabel`).
 */
export const transactionSchema = z.strictObject({
  transactionId: z.uuid({ message: 'expected a UUID, e.g. 0b5c9f8e-…' }),
  accountId: text(64),
  counterparty: text(64),
  amount: z
    .number()
    .positive('expected an amount above 0')
    // numeric(14, 2) holds up to 999,999,999,999.99.
    .lt(1e12, 'expected an amount below 1,000,000,000,000')
    .refine(hasAtMostTwoDecimals, 'expected at most 2 decimals'),
  currency: z.string().regex(/^[A-Z]{3}$/, 'expected an ISO 4217 code such as KES'),
  merchant: text(120),
  category: text(40),
  channel: z.enum(channels),
  country: z.string().regex(/^[A-Z]{2}$/, 'expected an ISO 3166 alpha-2 code such as KE'),
  deviceId: text(64).optional(),
  timestamp: z.iso
    .datetime({ message: 'expected ISO 8601 UTC, e.g. 2025-01-31T12:00:00.000Z' })
    .refine(storableYear, 'expected a year from 0001 to 9999'),
  source: text(40),
  label: z.strictObject({ fraud: z.boolean(), pattern: z.enum(fraudPatterns).nullable() }).optional(),
});

export type Transaction = z.infer<typeof transactionSchema>;
/** What a predictor may see: everything but the ground truth. */
export type UnlabelledTransaction = Omit<Transaction, 'label'>;

export function withoutLabel(transaction: Transaction): UnlabelledTransaction {
  const { label: _label, ...rest } = transaction;
  return rest;
}

export type ParseResult = { ok: true; transaction: Transaction } | { ok: false; reason: string };

/** Parses one Kafka message value; a failure names the field and what was expected. */
export function parseTransaction(value: Buffer | null): ParseResult {
  if (value === null) return { ok: false, reason: 'empty message (null value)' };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { ok: false, reason: `not JSON: ${(error as Error).message}` };
  }
  const parsed = transactionSchema.safeParse(json);
  if (parsed.success) return { ok: true, transaction: parsed.data };
  const problems = parsed.error.issues.map(
    (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  return { ok: false, reason: `invalid transaction: ${problems.join('; ')}` };
}
