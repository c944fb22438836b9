-- The check stage replaces its own run date, so re-running a date adds no rows.
DELETE FROM registry_check_hits WHERE run_date = $run_date;
DELETE FROM reverify_due WHERE run_date = $run_date;
DELETE FROM registry_check_runs WHERE run_date = $run_date;
