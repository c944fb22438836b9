SELECT coalesce(carrier, 'unknown') AS carrier, action, count(*) AS candidates
FROM candidates WHERE run_date = $run_date
GROUP BY ALL ORDER BY carrier, min(action_rank);
