-- The request deliveries a packaging pass answers, as of run date $run_date:
--   with $only empty (the daily and intake flows): each request's latest delivery received on or before
--   the run date (local) that was landed by this run ($run_id; a re-run rebuilds the same bytes) or has
--   no package yet (landed by a run that could not answer it, e.g. before the registry arrived);
--   with $only = [sha256, …] (`subflag package`): exactly those deliveries, whatever their state.
-- raw_json is the request as delivered; the packaging step re-validates it.
WITH latest AS (
    SELECT r.*
    FROM stg_requests r
    LEFT JOIN ingest_log l ON l.sha256 = r.source_sha256
    QUALIFY row_number() OVER (PARTITION BY r.request_id
                               ORDER BY l.ingested_at DESC NULLS LAST, r.received_at DESC, r.source_sha256 DESC) = 1
),
packaged AS (
    SELECT DISTINCT source_sha256 FROM request_packages WHERE package_path IS NOT NULL
)
SELECT r.request_id, r.source_sha256, r.source_file, r.raw_json, r.received_at, r.run_id
FROM stg_requests r
WHERE list_contains(CAST($only AS VARCHAR[]), r.source_sha256)
   OR (len(CAST($only AS VARCHAR[])) = 0
       AND r.source_sha256 IN (SELECT source_sha256 FROM latest)
       AND CAST(timezone($tz, r.received_at) AS DATE) <= $run_date
       AND (r.run_id = $run_id OR r.source_sha256 NOT IN (SELECT source_sha256 FROM packaged)))
ORDER BY r.received_at, r.request_id, r.source_sha256;
