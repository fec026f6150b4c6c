-- Transactions as consumed from Kafka. transaction_id is the idempotency key: a message
-- delivered twice (at-least-once) upserts the same row.
create table transactions (
  transaction_id uuid primary key,
  account_id     text not null,
  counterparty   text not null,
  amount         numeric(14, 2) not null check (amount > 0),
  currency       char(3) not null,
  merchant       text not null,
  category       text not null,
  channel        text not null,
  country        char(2) not null,
  device_id      text,
  occurred_at    timestamptz not null,
  source         text not null,
  -- The simulator's ground truth, kept only to measure precision and recall; the model never reads it.
  label_fraud    boolean,
  label_pattern  text,
  kafka_topic     text,
  kafka_partition integer,
  kafka_offset    bigint,
  ingested_at    timestamptz not null default now()
);
create index transactions_account_time on transactions (account_id, occurred_at);

create table predictions (
  transaction_id uuid primary key references transactions (transaction_id),
  score          double precision not null check (score between 0 and 1),
  is_fraud       boolean not null,
  reasons        jsonb not null default '[]',
  model          text not null,
  predicted_at   timestamptz not null default now()
);
create index predictions_flagged on predictions (predicted_at) where is_fraud;

create table fraud_alerts (
  transaction_id uuid primary key references transactions (transaction_id),
  account_id     text not null,
  score          double precision not null,
  reasons        jsonb not null default '[]',
  created_at     timestamptz not null default now()
);

-- Durable run history: Bull Board shows recent runs from Redis; this keeps them after Redis trims.
-- One row per attempt of a run.
create table job_runs (
  schedule     text not null,
  job_id       text not null,
  attempt      integer not null,
  job_type     text not null,
  state        text not null check (state in ('active', 'completed', 'failed')),
  params       jsonb not null default '{}',
  result       jsonb,
  error        text,
  scheduled_at timestamptz,
  started_at   timestamptz not null,
  finished_at  timestamptz,
  worker       text,
  primary key (schedule, job_id, attempt)
);
create index job_runs_recent on job_runs (schedule, started_at desc);
