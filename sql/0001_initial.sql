-- Initial schema: tenants, locations, fiscal chains, transactions, fiscal records and the outbox.
--
-- Fiscal records are legal evidence. Once written, the columns that make up a record (its document,
-- hash, chain position and producing plugin) can never change, and records can never be deleted:
-- triggers below enforce it inside the database, whatever the application does.

CREATE TABLE accounts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  billing_email text NOT NULL UNIQUE,
  status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'cancelled')),
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- API keys are stored as SHA-256 of the whole key; the plain key is shown once, at creation.
CREATE TABLE api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid NOT NULL REFERENCES accounts (id),
  name        text,
  key_prefix  text NOT NULL,
  key_hash    text NOT NULL UNIQUE,
  environment text NOT NULL CHECK (environment IN ('test', 'live')),
  key_type    text NOT NULL DEFAULT 'root' CHECK (key_type IN ('root', 'restricted', 'admin')),
  permissions jsonb,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

CREATE TABLE locations (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id     uuid NOT NULL REFERENCES accounts (id),
  name           text NOT NULL,
  country        text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
  address        text,
  tax_id         text,
  -- Normalised by the country plugin when the location is created.
  country_config jsonb NOT NULL DEFAULT '{}',
  -- Plugin serving the location and the chain its records join (decided by the plugin).
  plugin_name    text NOT NULL,
  chain_key      text NOT NULL,
  status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX locations_account ON locations (account_id, created_at);

-- One chain per (plugin, environment, chain key): test records never chain into live ones. The row
-- is the chain head: issuing a record locks it FOR UPDATE, reads last_state, and advances
-- last_sequence in the same transaction that stores the record, so concurrent sales can neither
-- fork nor skip the chain.
CREATE TABLE chains (
  id             bigserial PRIMARY KEY,
  plugin_name    text NOT NULL,
  environment    text NOT NULL CHECK (environment IN ('test', 'live')),
  chain_key      text NOT NULL,
  last_sequence  bigint NOT NULL DEFAULT 0,
  last_state     jsonb,
  last_record_id uuid,
  updated_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (plugin_name, environment, chain_key)
);

-- Invoice numbers the server assigns, per chain and series.
CREATE TABLE invoice_counters (
  chain_id    bigint NOT NULL REFERENCES chains (id),
  series      text NOT NULL,
  last_number bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (chain_id, series)
);

CREATE TABLE transactions (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id              uuid NOT NULL REFERENCES accounts (id),
  location_id             uuid NOT NULL REFERENCES locations (id),
  chain_id                bigint NOT NULL REFERENCES chains (id),
  environment             text NOT NULL CHECK (environment IN ('test', 'live')),
  type                    text NOT NULL CHECK (type IN ('sale', 'refund')),
  original_transaction_id uuid REFERENCES transactions (id),
  -- State of the transaction's own record at the authority.
  status                  text NOT NULL DEFAULT 'pending'
                          CHECK (status IN ('pending', 'registered', 'registered_with_errors', 'rejected')),
  invoice_number          text NOT NULL,
  client_timestamp        timestamptz NOT NULL,
  currency                text NOT NULL,
  payment_method          text NOT NULL,
  pretax_amount           numeric(17, 2) NOT NULL,
  tax_amount              numeric(17, 2) NOT NULL,
  total_amount            numeric(17, 2) NOT NULL,
  -- The validated request as the plugin received it (amounts as decimal strings).
  body                    jsonb NOT NULL,
  cancelled_at            timestamptz,
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chain_id, invoice_number)
);
CREATE INDEX transactions_account_created ON transactions (account_id, created_at DESC, id);
CREATE INDEX transactions_location_created ON transactions (location_id, created_at DESC);

CREATE TABLE fiscal_records (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  transaction_id      uuid NOT NULL REFERENCES transactions (id),
  account_id          uuid NOT NULL REFERENCES accounts (id),
  chain_id            bigint NOT NULL REFERENCES chains (id),
  sequence            bigint NOT NULL,
  operation           text NOT NULL CHECK (operation IN ('sale', 'refund', 'cancel')),
  record_type         text NOT NULL,
  plugin_name         text NOT NULL,
  plugin_version      text NOT NULL,
  fiscal_id           text NOT NULL,
  hash                text NOT NULL,
  document            text NOT NULL,
  document_type       text NOT NULL,
  qr_payload          text NOT NULL DEFAULT '',
  record_data         jsonb NOT NULL DEFAULT '{}',
  chain_state         jsonb NOT NULL DEFAULT '{}',
  receipt             jsonb NOT NULL DEFAULT '{}',
  generated_at        timestamptz NOT NULL,
  status              text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'registered', 'registered_with_errors', 'rejected')),
  authority_code      text,
  authority_message   text,
  authority_reference text,
  submitted_at        timestamptz,
  resolved_at         timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chain_id, sequence)
);
CREATE INDEX fiscal_records_transaction ON fiscal_records (transaction_id, sequence);

CREATE FUNCTION fiscal_records_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION 'fiscal record % cannot be deleted: fiscal records are permanent', OLD.id;
  END IF;
  IF NEW.transaction_id IS DISTINCT FROM OLD.transaction_id
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

CREATE TRIGGER fiscal_records_immutable
  BEFORE UPDATE OR DELETE ON fiscal_records
  FOR EACH ROW EXECUTE FUNCTION fiscal_records_guard();

-- Outbox: one entry per record to send, written in the transaction that stores the record.
-- Entries of one chain are sent in sequence order by one sender at a time (see submission_streams).
CREATE TABLE outbox (
  id              bigserial PRIMARY KEY,
  record_id       uuid NOT NULL UNIQUE REFERENCES fiscal_records (id),
  account_id      uuid NOT NULL REFERENCES accounts (id),
  chain_id        bigint NOT NULL REFERENCES chains (id),
  sequence        bigint NOT NULL,
  status          text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'processing', 'completed', 'failed', 'dead')),
  attempt         integer NOT NULL DEFAULT 0,
  max_attempts    integer NOT NULL DEFAULT 50,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_ready ON outbox (chain_id, sequence) WHERE status IN ('pending', 'processing', 'failed');
CREATE INDEX outbox_account ON outbox (account_id, created_at DESC);

-- One row per chain with queued records: who is sending it (a lease that expires, so a crashed
-- sender's chain is taken over) and when the authority allows the next batch.
CREATE TABLE submission_streams (
  chain_id         bigint PRIMARY KEY REFERENCES chains (id),
  lease_owner      text,
  lease_expires_at timestamptz,
  next_send_at     timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Every exchange with an authority, for the audit trail.
CREATE TABLE submissions (
  id                 bigserial PRIMARY KEY,
  chain_id           bigint NOT NULL REFERENCES chains (id),
  record_ids         uuid[] NOT NULL,
  plugin_name        text NOT NULL,
  plugin_version     text NOT NULL,
  outcome            text NOT NULL,
  error              text,
  authority_response text,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX submissions_chain ON submissions (chain_id, created_at);
