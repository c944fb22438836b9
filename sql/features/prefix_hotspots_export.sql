-- prefix_hotspots.csv for a run date: hot-spots first, then by ratio, in a stable order.
-- Parameter: run_date.
SELECT carrier, prefix_len, prefix, reports, distinct_numbers, distinct_reporters, baseline_reports,
       round(expected_reports, 3) AS expected_reports, round(ratio, 3) AS ratio, watched, is_hotspot, run_id
FROM v_prefix_hotspots
WHERE run_date = $run_date
ORDER BY is_hotspot DESC, carrier, prefix_len, ratio DESC NULLS FIRST, reports DESC, prefix;
