-- Logical time: the window of event time each run covers ([window_from, window_to), ctx.window),
-- and two more ways a run comes to be: a backfill (`tickflow backfill`) and a catch-up of windows
-- missed while the schedule was paused or down (`catchup:`). Older rows keep a null window.
alter table runs add column window_from timestamptz, add column window_to timestamptz;

alter table runs drop constraint runs_trigger_check;
alter table runs add constraint runs_trigger_check
  check (trigger in ('schedule', 'manual', 'backfill', 'catchup'));
