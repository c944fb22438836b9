-- Files landed up to now, newest run first: the report's ingest table.
SELECT source_kind, coalesce(carrier, '') AS carrier, source_file, rows_read, rows_accepted, rows_rejected,
       rows_duplicate, status, coalesce(error, '') AS error
FROM ingest_log
ORDER BY source_kind, carrier, source_file;
