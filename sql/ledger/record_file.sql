-- One ledger row per delivered file (key: content hash), or per broken inbox place (key: 'inbox-problem:'
-- + hash of its path in the inbox). A failed entry is retried by later runs and its row replaced, so a
-- rerun adds no row; a fixed file re-delivered there is new content and gets its own row.
INSERT OR REPLACE INTO ingest_log
    (sha256, source_file, source_kind, carrier, bytes, rows_read, rows_accepted, rows_rejected,
     rows_duplicate, status, error, run_id, ingested_at)
VALUES ($sha256, $source_file, $source_kind, $carrier, $bytes, $rows_read, $rows_accepted, $rows_rejected,
        $rows_duplicate, $status, $error, $run_id, $ingested_at);
