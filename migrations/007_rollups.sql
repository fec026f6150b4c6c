-- Per window of event time, market (county) and channel: how many transactions, how much money, how
-- many the model flagged, and how many arrived late (stored after the window's end). Written by the
-- stream-rollup job, which replaces a window's rows as a whole: a re-run never double counts.
create table rollups (
  window_seconds integer not null check (window_seconds > 0),
  window_start   timestamptz not null,
  window_end     timestamptz not null,
  -- Transactions without a county (older messages) are grouped as 'unknown'.
  county         text not null,
  channel        text not null,
  transactions   bigint not null,
  amount         numeric(18, 2) not null,
  flagged        bigint not null,
  late           bigint not null,
  computed_at    timestamptz not null default now(),
  primary key (window_seconds, window_end, county, channel)
);

-- A rollup reads one window of event time: without this it would scan every transaction ever stored
-- (17 million a day at 200/s) once a minute.
create index if not exists transactions_occurred_at on transactions (occurred_at);

-- The operations page's recent alerts: newest first, without sorting the whole table on each poll.
create index if not exists fraud_alerts_recent on fraud_alerts (created_at desc);
