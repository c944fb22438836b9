-- The check stage ran on this run date under this profile (the ladder needs to know which dates were checked).
INSERT INTO registry_check_runs (run_date, run_id, profile, checked_at) VALUES ($run_date, $run_id, $profile, $checked_at);
