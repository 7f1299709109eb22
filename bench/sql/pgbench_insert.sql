-- pgbench script of the database baseline: one single-row INSERT per transaction. The row holds the
-- JSON body of the benchmark's sale and a 64-character SHA-256 hex hash. bench/run.sh creates the
-- table (sales: id bigserial primary key, body jsonb, hash text, created_at timestamptz).
\set n random(1, 1000000000)
INSERT INTO sales (body, hash) VALUES ('{"location_id":"00000000-0000-4000-8000-000000000000","timestamp":"2026-12-04T10:15:00Z","items":[{"description":"Café","quantity":2,"unit_price":2.50,"tax_rate":0.10},{"description":"Bocadillo","quantity":1,"unit_price":3.00,"tax_rate":0.10}],"total_amount":8.00,"currency":"EUR","payment_method":"card"}'::jsonb, encode(sha256(:n::text::bytea), 'hex'));
