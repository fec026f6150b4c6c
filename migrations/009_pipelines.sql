-- Pipelines: schedules that wait for their data, depend on each other and correct themselves.

-- A consumer schedule's progress per partition, written by each committed run in its own
-- transaction (next_offset, newest_event_at) and after it (caught_up_at). The schedule's event-time
-- watermark is the minimum over its topic's partitions of what each has reached: the newest event
-- time stored from it, or for a partition found caught up, the time it was found so.
create table partition_progress (
  schedule        text not null,
  topic           text not null,
  partition       integer not null,
  -- The offset after the last one a committed run stored (what it committed).
  next_offset     bigint,
  newest_event_at timestamptz,
  -- When a run last found the group's committed offset at the partition's end offset.
  caught_up_at    timestamptz,
  updated_at      timestamptz not null default now(),
  primary key (schedule, topic, partition)
);

-- Transactions a consumer schedule stored behind its own watermark (late data), by second of event
-- time: windows already rolled up over them are re-run once (trigger late-data).
create table late_arrivals (
  schedule     text not null,
  event_second timestamptz not null,
  stored_at    timestamptz not null,
  transactions integer not null,
  primary key (schedule, event_second)
);
create index late_arrivals_recent on late_arrivals (schedule, stored_at);

-- waiting: due, but waiting for its data (a watermark) before it is queued. cancelled: dropped
-- before it ran (a cancelled backfill). Two more ways a run comes to be: a re-run of a window that
-- late data changed, and a run after each completed run of another schedule (after:).
alter table runs drop constraint runs_state_check;
alter table runs add constraint runs_state_check
  check (state in ('waiting', 'queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'));
alter table runs drop constraint runs_trigger_check;
alter table runs add constraint runs_trigger_check
  check (trigger in ('schedule', 'manual', 'backfill', 'catchup', 'late-data', 'after'));
-- What a waiting run waits for, shown with it ("consumer's watermark to pass 12:05:15").
alter table runs add column waiting_for text;
-- The runs still waiting for their data: what each reconcile pass of a windowed schedule reads.
create index runs_waiting on runs (schedule, due_at) where state = 'waiting';
