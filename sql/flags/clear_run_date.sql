-- The flag stage replaces its own run date, so re-running a date adds no rows.
DELETE FROM rule_hits WHERE run_date = $run_date;
DELETE FROM candidates WHERE run_date = $run_date;
