-- Rejected input rows by reason code: landed by this run, and in the whole ledger. Parameter: run_id.
SELECT reason,
       count(*) FILTER (WHERE run_id = $run_id) AS rows_this_run,
       count(*)                                 AS rows_all_runs
FROM rejects
GROUP BY reason
ORDER BY rows_this_run DESC, rows_all_runs DESC, reason;
