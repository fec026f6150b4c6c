-- The account's home market (a Kenyan county), carried by each transaction so that rollups can
-- group volumes by market without joining the producer's population. Null for older messages.
alter table transactions add column if not exists county text;
