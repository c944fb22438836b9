-- The package already recorded for a request delivery and run date (any carrier), so `subflag package`
-- rebuilds it with the same run id and generation time — and therefore the same bytes when the data
-- has not changed. No rows: never packaged for that date.
SELECT run_id, generated_at
FROM request_packages
WHERE source_sha256 = $source_sha256 AND run_date = $run_date AND package_path IS NOT NULL
ORDER BY first_built_at, carrier
LIMIT 1;
