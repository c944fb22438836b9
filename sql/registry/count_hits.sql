-- Hits per check on one run date.
SELECT check_id, count(*) AS hits FROM registry_check_hits WHERE run_date = $run_date GROUP BY check_id ORDER BY check_id;
