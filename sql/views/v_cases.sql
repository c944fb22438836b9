-- Analyst view: one case per flagged subscriber — first flagged, the actions over runs, the latest
-- decision the compliance team recorded and when. Monitor-only subscribers are cases too (kept, not exported).
CREATE OR REPLACE VIEW v_cases AS
WITH history AS (
    SELECT msisdn_int, any_value(msisdn) AS msisdn, any_value(carrier ORDER BY run_date DESC) AS carrier,
           min(run_date) AS first_flagged_on, max(run_date) AS last_flagged_on, count(*) AS runs_flagged,
           min(action_rank) AS strongest_rank,
           string_agg(strftime(run_date, '%Y-%m-%d') || ':' || action, ';' ORDER BY run_date) AS actions_over_runs,
           arg_max(action, run_date) AS last_action,
           arg_max(reasons, run_date) AS last_reasons
    FROM candidates
    GROUP BY msisdn_int
),
latest_decision AS (
    SELECT msisdn_int, decision, decided_at, case_ref
    FROM stg_decisions
    QUALIFY row_number() OVER (PARTITION BY msisdn_int ORDER BY decided_at DESC, decision) = 1
)
SELECT h.msisdn, h.carrier, h.first_flagged_on, h.last_flagged_on, h.runs_flagged,
       CASE h.strongest_rank WHEN 1 THEN 'two_way_block' WHEN 2 THEN 'one_way_block'
                             WHEN 3 THEN 'reverify' ELSE 'monitor' END AS strongest_action,
       h.last_action, h.last_reasons, h.actions_over_runs,
       d.decision, d.decided_at, d.case_ref
FROM history h
LEFT JOIN latest_decision d ON d.msisdn_int = h.msisdn_int;
