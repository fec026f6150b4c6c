-- What people do to runs (cancel, re-run, mark, note), each kept on the run with who did it.

-- One more way a run comes to be: a re-run of a finished run, for the same window (rerun_of links it).
alter table runs drop constraint runs_trigger_check;
alter table runs add constraint runs_trigger_check
  check (trigger in ('schedule', 'manual', 'backfill', 'catchup', 'late-data', 'after', 'rerun'));
-- The run a re-run redoes (its run id, of the same schedule).
alter table runs add column rerun_of text;
-- Who cancelled a run (queued: removed from its queue; running: its signal aborted).
alter table runs add column cancelled_by text;
-- A run marked completed or failed by hand: who, when, and the state it had before.
alter table runs add column marked_by text,
                 add column marked_at timestamptz,
                 add column marked_from text;
-- A note on a run, for the next shift: its text, who wrote it and when.
alter table runs add column note text,
                 add column noted_by text,
                 add column noted_at timestamptz;
alter table runs add constraint runs_note_length check (char_length(note) <= 2000);
-- The re-runs of a run, newest first: what a run's view lists.
create index runs_reruns on runs (schedule, rerun_of) where rerun_of is not null;

-- An attempt a cancel aborted ends cancelled, not failed.
alter table job_runs drop constraint job_runs_state_check;
alter table job_runs add constraint job_runs_state_check
  check (state in ('active', 'completed', 'failed', 'cancelled'));
