-- bench_clone(target, source_sql, overrides): inserts one row into `target` for every row of the
-- query `source_sql`. A column of `target` that `overrides` names gets the SQL expression mapped to
-- it. Every other column gets the value of the source column of the same name. So the bench
-- generators copy a row that the API wrote and change only what must differ. A column that
-- `overrides` maps to JSON null is left out, so it gets its default. Columns that a later migration
-- adds are copied from the template row, so the generators follow the schema as it evolves.
-- Returns the number of rows inserted. Lives in pg_temp: it disappears with the psql session.
CREATE FUNCTION pg_temp.bench_clone(target regclass, source_sql text, overrides jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  column_list text := '';
  expression_list text := '';
  attribute record;
  inserted bigint;
BEGIN
  FOR attribute IN
    SELECT attname FROM pg_attribute
    WHERE attrelid = target AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
    ORDER BY attnum
  LOOP
    CONTINUE WHEN overrides ? attribute.attname AND overrides ->> attribute.attname IS NULL;
    column_list := column_list || CASE WHEN column_list = '' THEN '' ELSE ', ' END || quote_ident(attribute.attname);
    expression_list := expression_list || CASE WHEN expression_list = '' THEN '' ELSE ', ' END ||
      coalesce(overrides ->> attribute.attname, 'src.' || quote_ident(attribute.attname));
  END LOOP;
  EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM (%s) src', target, column_list, expression_list, source_sql);
  GET DIAGNOSTICS inserted = ROW_COUNT;
  RETURN inserted;
END
$$;
