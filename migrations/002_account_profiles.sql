-- What the built-in model remembers per account (usual amount, devices, countries, recent times),
-- as JSON validated by src/domain/profile.ts. Updated in the same transaction as the predictions,
-- so a redelivered batch cannot count a transaction twice.
create table account_profiles (
  account_id text primary key,
  profile    jsonb not null,
  updated_at timestamptz not null default now()
);
