-- Senders skip the entries that follow a dead entry of their chain. Without this index that check
-- read the whole outbox for every candidate entry, so one claim took seconds with a large backlog
-- (found by bench/run.sh's queue drain).
CREATE INDEX outbox_dead ON outbox (chain_id, sequence) WHERE status = 'dead';
