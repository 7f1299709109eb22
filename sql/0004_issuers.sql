-- Issuers: the taxpayer a plugin reports for (for Spain, the NIF). Each issuer belongs to exactly
-- one account, and invoice numbers are unique per issuer across all of its installations, because
-- the authority identifies an invoice by issuer, number and date.

ALTER TABLE locations ADD COLUMN issuer_key text;
UPDATE locations SET issuer_key = chain_key WHERE issuer_key IS NULL;
ALTER TABLE locations ALTER COLUMN issuer_key SET NOT NULL;

CREATE TABLE issuer_claims (
  plugin_name text NOT NULL,
  issuer_key  text NOT NULL,
  account_id  uuid NOT NULL REFERENCES accounts (id),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (plugin_name, issuer_key)
);
INSERT INTO issuer_claims (plugin_name, issuer_key, account_id)
  SELECT DISTINCT ON (plugin_name, issuer_key) plugin_name, issuer_key, account_id
  FROM locations ORDER BY plugin_name, issuer_key, created_at;

-- Every invoice number an issuer has used, in each environment.
CREATE TABLE invoice_numbers (
  plugin_name    text NOT NULL,
  environment    text NOT NULL,
  issuer_key     text NOT NULL,
  invoice_number text NOT NULL,
  transaction_id uuid NOT NULL REFERENCES transactions (id),
  PRIMARY KEY (plugin_name, environment, issuer_key, invoice_number)
);
INSERT INTO invoice_numbers (plugin_name, environment, issuer_key, invoice_number, transaction_id)
  SELECT DISTINCT ON (l.plugin_name, t.environment, l.issuer_key, t.invoice_number)
         l.plugin_name, t.environment, l.issuer_key, t.invoice_number, t.id
  FROM transactions t JOIN locations l ON l.id = t.location_id
  ORDER BY l.plugin_name, t.environment, l.issuer_key, t.invoice_number, t.created_at;

-- Server-assigned numbers come from one counter per issuer and series, shared by its installations.
CREATE TABLE issuer_invoice_counters (
  plugin_name text NOT NULL,
  environment text NOT NULL,
  issuer_key  text NOT NULL,
  series      text NOT NULL,
  last_number bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (plugin_name, environment, issuer_key, series)
);
INSERT INTO issuer_invoice_counters (plugin_name, environment, issuer_key, series, last_number)
  SELECT l.plugin_name, c.environment, l.issuer_key, ic.series, max(ic.last_number)
  FROM invoice_counters ic JOIN chains c ON c.id = ic.chain_id
  JOIN locations l ON l.chain_key = c.chain_key AND l.plugin_name = c.plugin_name
  GROUP BY l.plugin_name, c.environment, l.issuer_key, ic.series;
DROP TABLE invoice_counters;
