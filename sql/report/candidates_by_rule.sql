-- Candidates of the run date per rule that put them forward (a candidate counts once per rule in its
-- reasons) and action. Parameter: run_date.
SELECT trim(reason) AS rule_id, action, count(*) AS candidates
FROM (SELECT unnest(string_split(reasons, ';')) AS reason, action, action_rank
      FROM candidates WHERE run_date = $run_date)
WHERE trim(reason) <> ''
GROUP BY ALL
ORDER BY min(action_rank), candidates DESC, rule_id, action;
