-- The run date's prefix hot-spots (3- and 5-digit), strongest first. Parameter: run_date.
SELECT carrier, prefix, reports, distinct_numbers, distinct_reporters, baseline_reports,
       round(expected_reports, 2) AS expected_reports, round(ratio, 2) AS ratio, watched
FROM v_prefix_hotspots
WHERE run_date = $run_date AND is_hotspot
ORDER BY prefix_len, ratio DESC NULLS FIRST, reports DESC, carrier, prefix;
