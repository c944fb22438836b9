-- Is number portability known yet? 1 when a v_current_carrier(e164_int, carrier) view or table exists.
SELECT (SELECT count(*) FROM duckdb_views() WHERE view_name = 'v_current_carrier')
     + (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'v_current_carrier') AS present;
