-- CDR ingest, step 1: the local days a spooled file covers, with the record-id range per day (used to
-- pick which existing lake files could hold the same record ids). Literal: spool (Parquet path).
SELECT day, count(*) AS rows, min(record_id) AS min_record_id, max(record_id) AS max_record_id
FROM read_parquet({{ spool }})
GROUP BY day
ORDER BY day;
