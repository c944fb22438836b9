SELECT rule_id, action, count(*) AS hits FROM rule_hits WHERE run_date = $run_date
GROUP BY ALL ORDER BY hits DESC, rule_id;
