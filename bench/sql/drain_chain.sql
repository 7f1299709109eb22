-- bench_drain_chain(location_id, records): queues `records` new Spain VERI*FACTU sales in the chain
-- of `location_id`, as if the location had sold them while the authority was unreachable.
--
-- The location must hold exactly one sale, posted through the API: its transaction, fiscal record
-- (the chain's first record, PrimerRegistro=S) and outbox entry are the templates. Sale n
-- (n = 1..records) gets invoice number <series><n + 1, 8 digits>, chain sequence n + 1, and a
-- record whose RegistroAnterior names sale n - 1 (the API's sale for n = 1) and whose Huella is
-- the SHA-256 that AEAT specifies over IDEmisorFactura, NumSerieFactura, FechaExpedicionFactura,
-- TipoFactura, CuotaTotal, ImporteTotal, the previous Huella and FechaHoraHusoGenRegistro. So
-- every record is what the plugin would have issued for the same sale, and the AEAT emulator
-- accepts it (its checks are listed in sandbox/aeat-emulator/README.md). All copies keep the
-- template's amounts, date and FechaHoraHusoGenRegistro.
--
-- It also writes the invoice_numbers rows, advances the issuer's invoice counter and the chain
-- head, and releases the chain's submission stream, so the host can keep selling in the chain
-- afterwards. Returns the number of sales queued.
CREATE FUNCTION pg_temp.bench_drain_chain(location uuid, records int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  t transactions%ROWTYPE;
  r fiscal_records%ROWTYPE;
  o outbox%ROWTYPE;
  l locations%ROWTYPE;
  invoice_series text;
  nif text;
  fecha text;
  fields text;
  template text;
  previous_number text;
  previous_huella text;
  number text;
  huella text;
  numbers text[] := '{}';
  previous_numbers text[] := '{}';
  previous_huellas text[] := '{}';
  huellas text[] := '{}';
BEGIN
  SELECT * INTO STRICT l FROM locations WHERE id = location;
  SELECT * INTO STRICT t FROM transactions WHERE location_id = location;
  SELECT * INTO STRICT r FROM fiscal_records WHERE transaction_id = t.id;
  SELECT * INTO STRICT o FROM outbox WHERE record_id = r.id;
  IF r.sequence <> 1 OR r.record_type <> 'RegistroAlta' THEN
    RAISE EXCEPTION 'location % must start a chain with one sale; its record has sequence % and type %',
      location, r.sequence, r.record_type;
  END IF;

  invoice_series := regexp_replace(t.invoice_number, '[0-9]+$', '');
  nif := r.record_data ->> 'IDEmisorFactura';
  fecha := r.record_data ->> 'FechaExpedicionFactura';
  -- The Huella input without NumSerieFactura and the previous Huella: %1$s and %2$s.
  fields := 'IDEmisorFactura=' || nif || '&NumSerieFactura=%1$s&FechaExpedicionFactura=' || fecha ||
            '&TipoFactura=' || (r.record_data ->> 'TipoFactura') || '&CuotaTotal=' || (r.record_data ->> 'CuotaTotal') ||
            '&ImporteTotal=' || (r.record_data ->> 'ImporteTotal') || '&Huella=%2$s&FechaHoraHusoGenRegistro=' ||
            (r.record_data ->> 'FechaHoraHusoGenRegistro');

  -- The formula must reproduce the plugin's own Huella of the template, or the copies would be wrong.
  IF upper(encode(sha256(convert_to(format(fields, r.fiscal_id, ''), 'UTF8')), 'hex')) <> r.hash THEN
    RAISE EXCEPTION 'the Huella computed for template record % differs from its stored hash %; the record format changed',
      r.id, r.hash;
  END IF;

  -- The document with placeholders: the template's own number and Huella, and its PrimerRegistro
  -- replaced by a RegistroAnterior.
  template := r.document;
  IF (SELECT count(*) FROM regexp_matches(template, '<sum1:PrimerRegistro>S</sum1:PrimerRegistro>', 'g')) <> 1
     OR (SELECT count(*) FROM regexp_matches(template, '<sum1:NumSerieFactura>' || r.fiscal_id || '</sum1:NumSerieFactura>', 'g')) <> 1
     OR (SELECT count(*) FROM regexp_matches(template, '<sum1:Huella>' || r.hash || '</sum1:Huella>', 'g')) <> 1 THEN
    RAISE EXCEPTION 'template record % does not have the expected RegistroAlta layout', r.id;
  END IF;
  template := replace(template, '<sum1:NumSerieFactura>' || r.fiscal_id || '</sum1:NumSerieFactura>',
                      '<sum1:NumSerieFactura>@NUMBER@</sum1:NumSerieFactura>');
  template := replace(template, '<sum1:Huella>' || r.hash || '</sum1:Huella>', '<sum1:Huella>@HUELLA@</sum1:Huella>');
  template := replace(template, '<sum1:PrimerRegistro>S</sum1:PrimerRegistro>',
    '<sum1:RegistroAnterior>' || E'\n' ||
    '      <sum1:IDEmisorFactura>' || nif || '</sum1:IDEmisorFactura>' || E'\n' ||
    '      <sum1:NumSerieFactura>@PREVIOUS_NUMBER@</sum1:NumSerieFactura>' || E'\n' ||
    '      <sum1:FechaExpedicionFactura>' || fecha || '</sum1:FechaExpedicionFactura>' || E'\n' ||
    '      <sum1:Huella>@PREVIOUS_HUELLA@</sum1:Huella>' || E'\n' ||
    '    </sum1:RegistroAnterior>');

  -- Each Huella depends on the previous one, so the chain is computed in order.
  previous_number := r.fiscal_id;
  previous_huella := r.hash;
  FOR n IN 1..records LOOP
    number := invoice_series || lpad((n + 1)::text, 8, '0');
    huella := upper(encode(sha256(convert_to(format(fields, number, previous_huella), 'UTF8')), 'hex'));
    numbers := numbers || number;
    previous_numbers := previous_numbers || previous_number;
    previous_huellas := previous_huellas || previous_huella;
    huellas := huellas || huella;
    previous_number := number;
    previous_huella := huella;
  END LOOP;

  DROP TABLE IF EXISTS drain_sales;
  CREATE TEMP TABLE drain_sales AS
    SELECT g.n AS gen_n, numbers[g.n] AS gen_number, previous_numbers[g.n] AS gen_previous_number,
           previous_huellas[g.n] AS gen_previous_huella, huellas[g.n] AS gen_huella,
           gen_random_uuid() AS gen_transaction_id, gen_random_uuid() AS gen_record_id
    FROM generate_series(1, records) g(n);

  PERFORM pg_temp.bench_clone('transactions',
    format('SELECT t.*, g.* FROM transactions t CROSS JOIN drain_sales g WHERE t.id = %L ORDER BY g.gen_n', t.id),
    jsonb_build_object(
      'id', 'src.gen_transaction_id',
      'invoice_number', 'src.gen_number',
      'status', '''pending''',
      'created_at', 'clock_timestamp()',
      'updated_at', 'clock_timestamp()'));

  PERFORM pg_temp.bench_clone('fiscal_records',
    format('SELECT r.*, g.* FROM fiscal_records r CROSS JOIN drain_sales g WHERE r.id = %L ORDER BY g.gen_n', r.id),
    jsonb_build_object(
      'id', 'src.gen_record_id',
      'transaction_id', 'src.gen_transaction_id',
      'sequence', 'src.gen_n + 1',
      'fiscal_id', 'src.gen_number',
      'hash', 'src.gen_huella',
      'document', format('replace(replace(replace(replace(%L, ''@NUMBER@'', src.gen_number), ''@HUELLA@'', src.gen_huella), '
                         '''@PREVIOUS_NUMBER@'', src.gen_previous_number), ''@PREVIOUS_HUELLA@'', src.gen_previous_huella)',
                         template),
      'qr_payload', format('replace(src.qr_payload, %L, ''numserie='' || src.gen_number)', 'numserie=' || r.fiscal_id),
      'record_data', 'src.record_data || jsonb_build_object(''NumSerieFactura'', src.gen_number)',
      'chain_state', 'src.chain_state || jsonb_build_object(''NumSerieFactura'', src.gen_number, ''Huella'', src.gen_huella)',
      'receipt', 'src.receipt || jsonb_build_object(''numero'', src.gen_number)',
      'status', '''pending''',
      'authority_code', 'NULL',
      'authority_message', 'NULL',
      'authority_reference', 'NULL',
      'submitted_at', 'NULL',
      'resolved_at', 'NULL',
      'created_at', 'clock_timestamp()'));

  PERFORM pg_temp.bench_clone('outbox',
    format('SELECT o.*, g.* FROM outbox o CROSS JOIN drain_sales g WHERE o.id = %s ORDER BY g.gen_n', o.id),
    jsonb_build_object(
      'id', NULL,
      'record_id', 'src.gen_record_id',
      'sequence', 'src.gen_n + 1',
      'status', '''pending''',
      'attempt', '0',
      'last_error', 'NULL',
      'next_attempt_at', 'now()',
      'created_at', 'now()',
      'updated_at', 'now()'));

  INSERT INTO invoice_numbers (plugin_name, environment, issuer_key, invoice_number, transaction_id)
    SELECT l.plugin_name, t.environment, l.issuer_key, g.gen_number, g.gen_transaction_id FROM drain_sales g;
  UPDATE issuer_invoice_counters SET last_number = records + 1
    WHERE plugin_name = l.plugin_name AND environment = t.environment AND issuer_key = l.issuer_key
      AND series = invoice_series;
  UPDATE chains c SET last_sequence = records + 1, last_state = fr.chain_state, last_record_id = fr.id, updated_at = now()
    FROM fiscal_records fr WHERE c.id = t.chain_id AND fr.chain_id = t.chain_id AND fr.sequence = records + 1;
  INSERT INTO submission_streams (chain_id) VALUES (t.chain_id) ON CONFLICT (chain_id) DO NOTHING;
  UPDATE submission_streams SET lease_owner = NULL, lease_expires_at = NULL, next_send_at = now() WHERE chain_id = t.chain_id;
  RETURN records;
END
$$;
