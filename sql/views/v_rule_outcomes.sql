-- Analyst view: per rule, how many of the subscribers it put forward were later blocked, cleared or
-- are still undecided — the precision a carrier sees in practice, rule by rule.
CREATE OR REPLACE VIEW v_rule_outcomes AS
WITH fired AS (
    SELECT rule_id, any_value(action) AS action, msisdn_int, min(run_date) AS first_fired_on
    FROM rule_hits
    WHERE excluded_by IS NULL
    GROUP BY rule_id, msisdn_int
),
outcome AS (
    SELECT f.rule_id, f.action, f.msisdn_int,
           (SELECT d.decision FROM stg_decisions d
            WHERE d.msisdn_int = f.msisdn_int AND CAST(d.decided_at AS DATE) >= f.first_fired_on
            ORDER BY d.decided_at DESC LIMIT 1) AS decision
    FROM fired f
)
SELECT rule_id, action,
       count(*)                                                              AS subscribers,
       count_if(decision IN ('one_way_blocked', 'two_way_blocked'))          AS later_blocked,
       count_if(decision = 'cleared')                                        AS later_cleared,
       count_if(decision IS NULL OR decision = 'restored')                   AS undecided_or_restored,
       round(count_if(decision IN ('one_way_blocked', 'two_way_blocked'))
             / nullif(count_if(decision IN ('one_way_blocked', 'two_way_blocked', 'cleared')), 0), 3) AS decided_precision
FROM outcome
GROUP BY rule_id, action
ORDER BY rule_id;
