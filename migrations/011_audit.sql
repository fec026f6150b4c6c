-- The audit log and the failure policy: who changed what and when, which version of its schedule
-- and of the code made each run, and what the failure policy saw of a run.

-- Every change to what runs, with who, when and what: a pause or resume (by a person, the file's
-- enabled:, or tickflow's pauseAfter), a trigger, a backfill and its cancel, what people do to runs,
-- a Bull Board action, and each applied schedules.yaml edit with its field-level diff.
create table audit_log (
  id        bigserial primary key,
  -- When it was recorded (not when its transaction began), to the millisecond: what pages go by.
  at        timestamptz not null default date_trunc('milliseconds', clock_timestamp()),
  -- cli:<user>, api:<user>, grid:<user>, bull-board:<user>, schedules.yaml or tickflow.
  actor     text not null,
  -- pause, resume, trigger, backfill, backfill-cancel, schedule-created, schedule-changed,
  -- schedule-removed, board:<what>, and whatever else records itself (cancel, rerun, mark, note).
  action    text not null,
  schedule  text,
  run_id    text,
  -- One line for people: `params.threshold 0.5 → 0.6`, `paused after 3 failed runs in a row`.
  what      text not null,
  -- The same in structure (a diff's changes, a backfill's range, a trigger's params).
  detail    jsonb,
  -- Set when several processes may record the same change (every scheduler applies a file edit):
  -- the first one records it, the others find the key taken.
  key       text unique
);
-- The log newest first (GET /audit, `tickflow audit`), and one schedule's.
create index audit_log_recent on audit_log (at desc, id desc);
create index audit_log_by_schedule on audit_log (schedule, at desc, id desc);

-- Each resolved spec a schedule has had (its schedules.yaml entry with the defaults applied), by
-- version: a hash of it. audit_id: the entry of the edit that set it.
create table spec_versions (
  schedule  text not null,
  version   text not null,
  spec      jsonb not null,
  audit_id  bigint references audit_log (id),
  since     timestamptz not null default now(),
  primary key (schedule, version)
);

-- The spec version the scheduler applied last, and the modification time of the file it came from:
-- a scheduler still reading an older version of the file does not undo a newer one's record.
alter table schedule_state add column spec_version text,
                           add column spec_file_at timestamptz;

-- What made a run: its schedule's spec version (spec_versions) and the code's version (the package
-- version and `git describe` at build). The failure policy's marks: when the run passed its
-- deadline unfinished (deadline:), and the slots of its schedule the job scheduler skipped when it
-- started late (see src/worker/failure-policy.ts).
alter table runs add column spec_version text,
                 add column code_version text,
                 add column deadline_missed_at timestamptz,
                 add column skipped_slots integer,
                 add column skipped_reason text;
