-- Adds :rows sales to location :'location_id', copies of the location's first sale (transaction and
-- fiscal record, as the API wrote them), spread evenly over the :days days (UTC) before today, from
-- 08:00 to 20:00 UTC.
--
-- Each copy gets its own ids, invoice number, chain sequence, hash and timestamps. Everything else
-- (body, amounts, the record's document, receipt and QR payload) is the template's. The copies are
-- history that only the read path uses: no outbox entries, no invoice_numbers rows, and the chain
-- head and invoice counter stay as the API left them, so no further sale may be posted to the
-- location. Foreign keys are not checked row by row (session_replication_role = replica, as
-- pg_restore --disable-triggers does): every id the copies reference is the template's own.
\set ON_ERROR_STOP on
SET session_replication_role = replica;

SELECT t.id AS template_transaction, t.chain_id AS template_chain,
       regexp_replace(t.invoice_number, '[0-9]+$', '') AS series,
       ceil(:rows::numeric / :days)::int AS per_day
FROM transactions t WHERE t.location_id = :'location_id' ORDER BY t.created_at LIMIT 1 \gset

SELECT format($q$
  SELECT t.*, g.n AS gen_n,
         (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - make_interval(days => %2$s) + make_interval(days => (g.n - 1) / %3$s)
           + make_interval(secs => ((g.n - 1) %% %3$s) * (43200.0 / %3$s) + 28800) AS gen_time
  FROM transactions t CROSS JOIN generate_series(1, %1$s) g(n) WHERE t.id = %4$L$q$,
  :rows, :days, :per_day, :'template_transaction') AS transaction_source \gset

SELECT pg_temp.bench_clone('transactions', :'transaction_source', jsonb_build_object(
  'id', 'md5(src.id::text || '':'' || src.gen_n)::uuid',
  'invoice_number', format('%L || lpad((src.gen_n + 1)::text, 8, ''0'')', :'series'),
  'status', '''registered''',
  'client_timestamp', 'src.gen_time',
  'created_at', 'src.gen_time',
  'updated_at', 'src.gen_time')) AS transactions_inserted;

SELECT format($q$
  SELECT r.*, g.n AS gen_n,
         (date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC') - make_interval(days => %2$s) + make_interval(days => (g.n - 1) / %3$s)
           + make_interval(secs => ((g.n - 1) %% %3$s) * (43200.0 / %3$s) + 28800) AS gen_time
  FROM fiscal_records r CROSS JOIN generate_series(1, %1$s) g(n) WHERE r.transaction_id = %4$L$q$,
  :rows, :days, :per_day, :'template_transaction') AS record_source \gset

SELECT pg_temp.bench_clone('fiscal_records', :'record_source', jsonb_build_object(
  'id', 'md5(''record:'' || src.transaction_id::text || '':'' || src.gen_n)::uuid',
  'transaction_id', 'md5(src.transaction_id::text || '':'' || src.gen_n)::uuid',
  'sequence', 'src.sequence + src.gen_n',
  'fiscal_id', format('%L || lpad((src.gen_n + 1)::text, 8, ''0'')', :'series'),
  'hash', 'upper(md5(src.id::text || src.gen_n) || md5(src.gen_n || src.id::text))',
  'status', '''registered''',
  'generated_at', 'src.gen_time',
  'submitted_at', 'src.gen_time',
  'resolved_at', 'src.gen_time',
  'created_at', 'src.gen_time')) AS records_inserted;
