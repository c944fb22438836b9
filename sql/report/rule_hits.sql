-- Rule hits of the run date: how many became (part of) a candidate and how many an exclusion stopped,
-- per exclusion. Parameter: run_date.
SELECT rule_id, action, coalesce(excluded_by, 'not excluded') AS outcome, count(*) AS hits
FROM rule_hits
WHERE run_date = $run_date
GROUP BY ALL
ORDER BY min(priority), rule_id, outcome;
