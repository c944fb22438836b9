-- Log one packaging outcome (sql/views/v_requests.sql defines request_packages): a rebuild of the same
-- request delivery, run date and carrier updates its row (first_built_at kept), so re-runs add no rows.
-- $carrier NULL with $package_path NULL records "no configured carrier holds any requested number".
UPDATE request_packages
SET package_path = $package_path, package_sha256 = $package_sha256, numbers_held = $numbers_held,
    generated_at = $generated_at, last_built_at = $built_at, run_id = $run_id
WHERE request_id = $request_id AND source_sha256 = $source_sha256 AND run_date = $run_date
  AND carrier IS NOT DISTINCT FROM $carrier;

INSERT INTO request_packages
SELECT $request_id, $source_sha256, $run_date, $carrier, $package_path, $package_sha256, $numbers_held,
       $generated_at, $built_at, $built_at, $run_id
WHERE NOT EXISTS (
    SELECT 1 FROM request_packages
    WHERE request_id = $request_id AND source_sha256 = $source_sha256 AND run_date = $run_date
      AND carrier IS NOT DISTINCT FROM $carrier);
