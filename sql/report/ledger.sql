-- The ingest ledger by source kind and carrier: every file ever landed, and how many this run landed.
-- rows_read = rows_accepted + rows_rejected + rows_duplicate for every file. Parameter: run_id.
SELECT source_kind, coalesce(carrier, '') AS carrier,
       count(*)                                   AS files,
       count(*) FILTER (WHERE run_id = $run_id)   AS files_this_run,
       count(*) FILTER (WHERE status <> 'loaded') AS files_failed,
       sum(rows_read)::BIGINT                     AS rows_read,
       sum(rows_accepted)::BIGINT                 AS rows_accepted,
       sum(rows_rejected)::BIGINT                 AS rows_rejected,
       sum(rows_duplicate)::BIGINT                AS rows_duplicate
FROM ingest_log
GROUP BY ALL
ORDER BY source_kind, carrier;
