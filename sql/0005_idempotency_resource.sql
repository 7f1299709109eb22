-- The resource a request created, written in the same database transaction that created it. When
-- the host dies after that commit but before the response is stored, a retry finds the resource
-- here and answers with it instead of creating a second one.
ALTER TABLE idempotency_keys ADD COLUMN resource_id text;
