-- Analyst view: every status transition seen between consecutive snapshots of a carrier's registry.
-- The change happened after previous_snapshot and on or before changed_on. from_status NULL: the number
-- appeared in the registry; to_status NULL: it left it. For "status on day D" use subscriber_status_on(D).
CREATE OR REPLACE VIEW v_subscriber_status_history AS
SELECT carrier, msisdn, msisdn_int, previous_snapshot, changed_on, from_status, to_status, run_id
FROM registry_status_changes;
