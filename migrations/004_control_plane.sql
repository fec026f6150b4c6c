-- The control plane's record. PostgreSQL, not Redis, is the truth of a schedule's switch (like
-- Airflow's dag.is_paused): BullMQ follows this table, so a Redis flush or loss loses no pause.
create table schedule_state (
  schedule     text primary key,
  paused       boolean not null default false,
  -- Who flipped the switch last, when, and why (`tickflow pause --note`, the grid, Bull Board, the file).
  note         text,
  changed_by   text,
  changed_at   timestamptz not null default now(),
  -- The file's `enabled:` value last applied: only a change of it overrides a person's switch.
  file_enabled boolean,
  -- The BullMQ scheduler spec last applied (job, trigger, params, options) and when.
  spec         jsonb,
  applied_at   timestamptz,
  -- Set while the schedule is out of the file; the row, with a person's pause, waits for its return.
  removed_at   timestamptz
);

-- One row per run (job_runs keeps one per attempt): what the grid, `tickflow runs` and the API
-- page through. due_at orders runs: the slot of a scheduled run, the trigger time of a manual one.
create table runs (
  schedule     text not null,
  run_id       text not null,
  job_type     text not null,
  state        text not null check (state in ('queued', 'active', 'retrying', 'completed', 'failed')),
  trigger      text not null check (trigger in ('schedule', 'manual')),
  triggered_by text,
  params       jsonb not null default '{}',
  attempts     integer not null default 0,
  due_at       timestamptz not null,
  started_at   timestamptz,
  finished_at  timestamptz,
  result       jsonb,
  error        text,
  primary key (schedule, run_id)
);
-- The grid (a time window per schedule), the run list and the last run: newest first.
create index runs_recent on runs (schedule, due_at desc);
-- The run list filtered by state, and the failing streak behind failure notifications.
create index runs_by_state on runs (schedule, state, due_at desc);

-- A run's log lines, kept with its attempt after Redis trims the job (Bull Board's copy).
alter table job_runs add column logs jsonb;

insert into runs (schedule, run_id, job_type, state, trigger, params, attempts, due_at, started_at,
                  finished_at, result, error)
select distinct on (schedule, job_id)
       schedule, job_id, job_type, state,
       case when job_id like 'manual-%' then 'manual' else 'schedule' end,
       params, attempt, coalesce(scheduled_at, started_at),
       min(started_at) over (partition by schedule, job_id), finished_at, result, error
  from job_runs
 order by schedule, job_id, attempt desc;
