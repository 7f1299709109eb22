-- Idempotency keys: the stored outcome of POST requests sent with an Idempotency-Key header, so that a
-- client retrying after a lost response gets the first response again instead of a second sale.
--
-- A row is inserted 'in_flight' before the handler runs (INSERT ... ON CONFLICT DO NOTHING decides
-- which of several concurrent requests runs it) and becomes 'completed' with the response once the
-- handler returns. 5xx and 429 responses are not stored: their row is deleted so that a retry runs
-- the handler again. See host/src/api/idempotency.h.
CREATE TABLE idempotency_keys (
  -- The account id of the API key, or 'public' for unauthenticated endpoints (POST /v1/accounts).
  scope                 text NOT NULL,
  method                text NOT NULL,
  -- Normalised request path (no query string, no empty segments).
  path                  text NOT NULL,
  idempotency_key       text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
  -- Lower-case hex SHA-256 of method, path and body: a retry must send the same request.
  fingerprint           text NOT NULL,
  state                 text NOT NULL DEFAULT 'in_flight' CHECK (state IN ('in_flight', 'completed')),
  -- Random token of the request currently running the handler. Only that request may complete or
  -- release the row, so a request whose stale row was taken over cannot overwrite the new outcome.
  owner_token           text NOT NULL,
  locked_at             timestamptz NOT NULL DEFAULT now(),
  response_status       integer,
  response_content_type text,
  -- JSON array of [name, value] pairs.
  response_headers      text,
  -- bytea, so the replayed body is byte-for-byte the stored one whatever it contains.
  response_body         bytea,
  created_at            timestamptz NOT NULL DEFAULT now(),
  completed_at          timestamptz,
  expires_at            timestamptz NOT NULL,
  PRIMARY KEY (scope, method, path, idempotency_key),
  CHECK (state = 'in_flight' OR (response_status IS NOT NULL AND response_body IS NOT NULL))
);
CREATE INDEX idempotency_keys_expires ON idempotency_keys (expires_at);
