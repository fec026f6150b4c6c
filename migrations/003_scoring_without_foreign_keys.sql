-- predictions and fraud_alerts lose their foreign keys to transactions. Every row of both tables is
-- written by one function (saveScoredBatch in src/db/scoring-store.ts) in the same PostgreSQL
-- transaction as its transactions row, right after that row was inserted; the pair commits or rolls
-- back together, so the reference holds by construction. Checking it again for each row cost about a
-- third of the consumer's write time (an index lookup plus a trigger per row, 50,000 rows a run).
-- Deleting transactions by hand now needs the matching predictions and fraud_alerts deleted too.
alter table predictions drop constraint if exists predictions_transaction_id_fkey;
alter table fraud_alerts drop constraint if exists fraud_alerts_transaction_id_fkey;
