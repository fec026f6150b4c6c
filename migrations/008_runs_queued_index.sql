-- Manual runs still waiting: the sweep that closes the ones dropped before they ran.
-- (Its own migration: 004 had already been applied without it, and applied migrations are checksummed.)
create index if not exists runs_queued on runs (due_at) where state = 'queued';
