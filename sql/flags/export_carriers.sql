-- Carriers that have at least one exportable candidate on the run date.
SELECT DISTINCT carrier FROM candidates
WHERE run_date = $run_date AND action <> 'monitor' AND carrier IS NOT NULL
ORDER BY carrier;
