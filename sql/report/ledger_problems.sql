-- Files this run landed with rejected rows or that failed outright, for the report's ledger table.
-- Parameter: run_id.
SELECT source_kind, coalesce(carrier, '') AS carrier, source_file, rows_read, rows_accepted, rows_rejected,
       rows_duplicate, status, coalesce(error, '') AS error
FROM ingest_log
WHERE run_id = $run_id AND (rows_rejected > 0 OR status <> 'loaded')
ORDER BY source_kind, carrier, source_file;
