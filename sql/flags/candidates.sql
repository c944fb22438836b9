-- Collapse rule hits to one candidate per subscriber: strongest action wins, every reason is kept.
INSERT INTO candidates
WITH ranked AS (
    SELECT h.*,
           CASE h.action WHEN 'two_way_block' THEN 1 WHEN 'one_way_block' THEN 2
                         WHEN 'reverify' THEN 3 ELSE 4 END AS action_rank
    FROM rule_hits h
    WHERE h.run_date = $run_date
),
per_subscriber AS (
    SELECT msisdn_int,
           min(action_rank)                                          AS action_rank,
           string_agg(rule_id, ';' ORDER BY action_rank, priority, rule_id) AS reasons,
           sum(score)                                                AS score,
           arg_min(legal_basis, action_rank * 100000 + priority)     AS legal_basis
    FROM ranked
    GROUP BY msisdn_int
)
SELECT
    $run_date, $run_id, s.msisdn_int, s.msisdn, s.msisdn_national, s.carrier, s.prefix,
    CASE p.action_rank WHEN 1 THEN 'two_way_block' WHEN 2 THEN 'one_way_block'
                       WHEN 3 THEN 'reverify' ELSE 'monitor' END AS action,
    p.action_rank, p.reasons, p.score,
    s.distinct_reporters, s.reports, s.corroborated_reports, s.first_reported_at, s.last_reported_at,
    p.legal_basis,
    $run_date + CAST(list_extract($due_days, p.action_rank) AS INTEGER) AS due_by
FROM per_subscriber p
JOIN subscriber_signals s ON s.msisdn_int = p.msisdn_int AND s.run_date = $run_date;
