-- The suspension candidate list of one carrier (monitor-only subscribers stay in the warehouse).
-- Sorted by action strength, then score, then msisdn: the same inputs give byte-identical files.
SELECT
    msisdn, msisdn_national, carrier, prefix, action, reasons,
    round(score, 4) AS score,
    distinct_reporters, reports, corroborated_reports,
    first_reported_at, last_reported_at,
    legal_basis, due_by, run_id
FROM candidates
WHERE run_date = $run_date AND carrier = $carrier AND action <> 'monitor'
ORDER BY action_rank, score DESC, msisdn;
