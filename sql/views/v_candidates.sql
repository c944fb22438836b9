-- Analyst view: candidates of every run date (history across runs).
CREATE OR REPLACE VIEW v_candidates AS
SELECT run_date, run_id, msisdn, msisdn_national, carrier, prefix, action, reasons, score,
       distinct_reporters, reports, corroborated_reports, first_reported_at, last_reported_at, legal_basis, due_by
FROM candidates;
