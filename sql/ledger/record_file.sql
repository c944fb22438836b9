-- One ledger row per delivered file; a failed file is retried by later runs and its row replaced.
INSERT OR REPLACE INTO ingest_log
    (sha256, source_file, source_kind, carrier, bytes, rows_read, rows_accepted, rows_rejected,
     rows_duplicate, status, error, run_id, ingested_at)
VALUES ($sha256, $source_file, $source_kind, $carrier, $bytes, $rows_read, $rows_accepted, $rows_rejected,
        $rows_duplicate, $status, $error, $run_id, $ingested_at);
