-- Webhooks: per-account HTTP endpoints that receive signed event notifications, and the queue of
-- deliveries to them.
--
-- A delivery row is written in the same transaction as the state change it reports (the outbox
-- marking a record completed or dead), so an event is queued exactly when its change commits.
-- Background senders send deliveries at least once: a sender that dies mid-send leaves the
-- delivery due again after its lease, and receivers deduplicate by the event id in the body.

CREATE TABLE webhooks (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  account_id  uuid NOT NULL REFERENCES accounts (id),
  url         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
  -- HMAC-SHA256 key for the X-Webhook-Signature header: "whsec_" and 64 hex digits. It is stored in
  -- plain text because the sender needs the key itself, and the API returns it only on create and
  -- rotate.
  secret      text NOT NULL,
  events      text[] NOT NULL CHECK (cardinality(events) > 0),
  description text,
  enabled     boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  -- Deleted webhooks are kept so that their deliveries stay readable in the database.
  deleted_at  timestamptz
);
CREATE INDEX webhooks_account ON webhooks (account_id, created_at, id) WHERE deleted_at IS NULL;

CREATE TABLE webhook_deliveries (
  id               bigserial PRIMARY KEY,
  webhook_id       uuid NOT NULL REFERENCES webhooks (id),
  account_id       uuid NOT NULL REFERENCES accounts (id),
  event            text NOT NULL,
  -- Shared by the deliveries of one event to several webhooks; also the "id" member of the body.
  event_id         uuid NOT NULL,
  -- The request body. Every attempt sends payload::text, which is the same text on every read: jsonb
  -- output is canonical (key order and whitespace normalised), so retries send identical bytes.
  payload          jsonb NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  -- Attempts started so far; a sender increments it when it claims the delivery.
  attempt          integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
  -- When the delivery is due. While a sender holds it, this is the end of the sender's lease.
  -- NULL once the delivery is delivered or dead.
  next_attempt_at  timestamptz DEFAULT now(),
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz
);
-- The senders' claim: due deliveries in order of due time.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
  WHERE status IN ('pending', 'failed');
-- The API's listing of one webhook's deliveries, newest first.
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
