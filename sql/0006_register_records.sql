-- Records that are not sent to an authority and records that belong to no transaction: the France
-- NF525 register keeps signed chains of tickets, duplicates, closures, journal events and archives
-- (see docs/france.md). The same columns serve later countries with local signing.

-- The location's profile, declared by the plugin when it validated the location: its signing key name, its features
-- ("training", "duplicates", "closures", "journal", "archives"), how its records are submitted
-- ("authority" or "none") and its time zone.
ALTER TABLE locations ADD COLUMN profile jsonb NOT NULL DEFAULT '{}';

-- "signed": final once signed, nothing to send.
ALTER TABLE transactions DROP CONSTRAINT transactions_status_check;
ALTER TABLE transactions ADD CONSTRAINT transactions_status_check
  CHECK (status IN ('pending', 'registered', 'registered_with_errors', 'rejected', 'signed'));
-- A training sale is a transaction of its own chain; it never enters totals.
ALTER TABLE transactions ADD COLUMN training boolean NOT NULL DEFAULT false;

ALTER TABLE fiscal_records DROP CONSTRAINT fiscal_records_status_check;
ALTER TABLE fiscal_records ADD CONSTRAINT fiscal_records_status_check
  CHECK (status IN ('pending', 'registered', 'registered_with_errors', 'rejected', 'signed'));
ALTER TABLE fiscal_records DROP CONSTRAINT fiscal_records_operation_check;
ALTER TABLE fiscal_records ADD CONSTRAINT fiscal_records_operation_check
  CHECK (operation IN ('sale', 'refund', 'cancel', 'duplicate', 'closure', 'event', 'archive'));
-- Closures, journal events and archives belong to a location, not to a transaction.
ALTER TABLE fiscal_records ALTER COLUMN transaction_id DROP NOT NULL;
ALTER TABLE fiscal_records ADD COLUMN location_id uuid REFERENCES locations (id);
UPDATE fiscal_records r SET location_id = t.location_id FROM transactions t WHERE t.id = r.transaction_id;
ALTER TABLE fiscal_records ADD CONSTRAINT fiscal_records_owner_check
  CHECK (transaction_id IS NOT NULL OR operation IN ('closure', 'event', 'archive'));
CREATE INDEX fiscal_records_chain_time ON fiscal_records (chain_id, generated_at);
CREATE INDEX fiscal_records_location ON fiscal_records (location_id, created_at);

-- The guard learns the new column: a record's location is as permanent as the rest of it.
CREATE OR REPLACE FUNCTION fiscal_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'fiscal record % cannot be deleted: fiscal records are permanent', OLD.id;
  END IF;
  IF NEW.transaction_id IS DISTINCT FROM OLD.transaction_id
     OR NEW.location_id IS DISTINCT FROM OLD.location_id AND OLD.location_id IS NOT NULL
     OR NEW.chain_id IS DISTINCT FROM OLD.chain_id
     OR NEW.sequence IS DISTINCT FROM OLD.sequence
     OR NEW.operation IS DISTINCT FROM OLD.operation
     OR NEW.record_type IS DISTINCT FROM OLD.record_type
     OR NEW.plugin_name IS DISTINCT FROM OLD.plugin_name
     OR NEW.plugin_version IS DISTINCT FROM OLD.plugin_version
     OR NEW.fiscal_id IS DISTINCT FROM OLD.fiscal_id
     OR NEW.hash IS DISTINCT FROM OLD.hash
     OR NEW.document IS DISTINCT FROM OLD.document
     OR NEW.qr_payload IS DISTINCT FROM OLD.qr_payload
     OR NEW.record_data IS DISTINCT FROM OLD.record_data
     OR NEW.chain_state IS DISTINCT FROM OLD.chain_state
     OR NEW.generated_at IS DISTINCT FROM OLD.generated_at THEN
    RAISE EXCEPTION 'fiscal record % cannot be altered: only its authority status may change', OLD.id;
  END IF;
  RETURN NEW;
END;
$$;

-- Archives handed out for a location: the zip as produced, and the signed record of the archives
-- chain that attests it. Permanent, like the records.
CREATE TABLE archives (
  id          uuid PRIMARY KEY,
  account_id  uuid NOT NULL REFERENCES accounts (id),
  location_id uuid NOT NULL REFERENCES locations (id),
  environment text NOT NULL CHECK (environment IN ('test', 'live')),
  record_id   uuid NOT NULL REFERENCES fiscal_records (id),
  period_from date NOT NULL,
  period_to   date NOT NULL,
  sha256      text NOT NULL,
  content     bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX archives_location ON archives (location_id, created_at DESC);

CREATE FUNCTION archives_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'archive % cannot be altered or deleted', OLD.id;
END;
$$;
CREATE TRIGGER archives_immutable BEFORE UPDATE OR DELETE ON archives
  FOR EACH ROW EXECUTE FUNCTION archives_guard();

-- Requests refused because a location's signing key could not be used. The next record signed in
-- the location journals the outage from these rows, so a gap in service is always on record.
CREATE TABLE signing_incidents (
  id           bigserial PRIMARY KEY,
  account_id   uuid NOT NULL REFERENCES accounts (id),
  location_id  uuid NOT NULL REFERENCES locations (id),
  environment  text NOT NULL,
  first_at     timestamptz NOT NULL DEFAULT now(),
  last_at      timestamptz NOT NULL DEFAULT now(),
  refused      integer NOT NULL DEFAULT 1,
  journaled_at timestamptz
);
CREATE UNIQUE INDEX signing_incidents_open ON signing_incidents (location_id, environment)
  WHERE journaled_at IS NULL;
