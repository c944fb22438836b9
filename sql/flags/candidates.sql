-- Collapse the run date's non-excluded hits to one candidate per subscriber: strongest action wins,
-- every reason is kept (strongest first), the score adds up, evidence comes from the signals.
INSERT INTO candidates
WITH ranked AS (
    SELECT h.*,
           CASE h.action WHEN 'two_way_block' THEN 1 WHEN 'one_way_block' THEN 2
                         WHEN 'reverify' THEN 3 ELSE 4 END AS action_rank
    FROM rule_hits h
    WHERE h.run_date = $run_date AND h.excluded_by IS NULL
),
per_subscriber AS (
    SELECT msisdn_int,
           min(action_rank)                                                  AS action_rank,
           string_agg(rule_id, ';' ORDER BY action_rank, priority, rule_id)  AS reasons,
           sum(score)                                                        AS score,
           arg_min(legal_basis, action_rank * 100000 + priority)             AS legal_basis,
           string_agg(DISTINCT cdr_evidence, ';' ORDER BY cdr_evidence)      AS cdr_evidence
    FROM ranked
    GROUP BY msisdn_int
)
SELECT
    $run_date, $run_id, s.msisdn_int, s.msisdn, s.msisdn_national, s.carrier, s.prefix,
    CASE p.action_rank WHEN 1 THEN 'two_way_block' WHEN 2 THEN 'one_way_block'
                       WHEN 3 THEN 'reverify' ELSE 'monitor' END AS action,
    p.action_rank, p.reasons, p.score,
    s.distinct_reporters, s.reports, s.corroborated_reports, s.first_reported_at, s.last_reported_at,
    s.calls_out, s.distinct_callees, s.short_call_share, s.unanswered_share, s.new_callee_share,
    s.max_calls_burst, s.imei_max_subscribers, p.cdr_evidence,
    s.subscriber_age_days, s.plan, s.kyc_verified, s.request_ids,
    CASE WHEN p.action_rank = 1 AND s.suspend_requested THEN coalesce(s.request_basis, p.legal_basis)
         ELSE p.legal_basis END AS legal_basis,
    CASE WHEN p.action_rank = 3 THEN coalesce(rd.due_by, $run_date + CAST(list_extract($due_days, 3) AS INTEGER))
         ELSE $run_date + CAST(list_extract($due_days, p.action_rank) AS INTEGER) END AS due_by
FROM per_subscriber p
JOIN signals_today s ON s.msisdn_int = p.msisdn_int
LEFT JOIN reverify_due rd ON rd.msisdn_int = p.msisdn_int AND rd.run_date = $run_date AND rd.carrier = s.carrier;
