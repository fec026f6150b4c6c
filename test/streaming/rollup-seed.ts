import type pg from 'pg';

/** Markets of the seeded traffic; every 50th transaction has none (stored before messages carried one). */
export const SEED_COUNTIES = [
  'Nairobi',
  'Mombasa',
  'Kisumu',
  'Nakuru',
  'Kiambu',
  'Machakos',
  'Nyeri',
  'Meru',
];

export interface SeedOptions {
  /** Event time of the first transaction. */
  from: Date;
  count: number;
  /** Event time between two transactions (200 tx/s is 5 ms). */
  spacingMs: number;
  /** How long after its event time each transaction is stored (ingested_at). */
  ingestDelayMs?: number;
  /** Makes the transaction ids of this seed distinct from another's. */
  tag: string;
}

/**
 * Stores `count` transactions and their predictions in one statement each (generate_series, so a
 * million rows take seconds): four channels, the counties above, every 20th flagged by the model.
 */
export async function seedTransactions(db: pg.Pool, options: SeedOptions): Promise<void> {
  const params = [options.tag, options.count, options.from, options.spacingMs, options.ingestDelayMs ?? 0];
  const series = `generate_series(0, $2::int - 1) as i`;
  const id = `md5($1::text || ':' || i)::uuid`;
  await db.query(
    `insert into transactions (transaction_id, account_id, counterparty, amount, currency, merchant, category,
                               channel, country, occurred_at, source, county, ingested_at)
     select ${id}, 'acct-' || (i % 5000), 'cp-' || (i % 997), 1 + ((i::bigint * 7919) % 100000) / 100.0, 'KES',
            'merchant', 'groceries',
            (array['mobile_money', 'card', 'online', 'bank_transfer'])[1 + i % 4], 'KE',
            $3::timestamptz + i * $4::double precision * interval '1 millisecond', 'seed',
            case when i % 50 = 0 then null else ($6::text[])[1 + (i / 4) % cardinality($6::text[])] end,
            $3::timestamptz + (i * $4::double precision + $5::double precision) * interval '1 millisecond'
       from ${series}`,
    [...params, SEED_COUNTIES],
  );
  await db.query(
    `insert into predictions (transaction_id, score, is_fraud, model)
     select ${id}, case when i % 20 = 0 then 0.9 else 0.1 end, i % 20 = 0, 'seed' from ${series}`,
    [options.tag, options.count],
  );
}
