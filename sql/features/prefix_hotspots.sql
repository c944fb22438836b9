-- Per carrier and national prefix (3 and 5 digits): complaints in the feature window against the
-- trailing baseline of baseline_days before it, scaled to the window's length. A prefix is a hot-spot
-- with at least min_reports complaints and a ratio of at least min_ratio (or no baseline at all).
-- Counts every complaint naming a non-protected number, under the carrier that owns the prefix
-- (reported_carrier: the range's allocation, whatever later ports did). Reads _complaint_carrier.
-- Parameters: run_date, run_id, window_days, baseline_days, min_reports, min_ratio,
-- watched (list of 'carrier/0xx' from carriers.toml watched_prefixes).
DELETE FROM prefix_hotspots WHERE run_date = $run_date;

INSERT INTO prefix_hotspots
WITH complaints AS (
    SELECT reported_carrier AS carrier, reported_e164_int, reporter_e164_int, reported_prefix3, reported_prefix5,
           received_day >= $run_date - ($window_days - 1) AS in_window
    FROM _complaint_carrier
    WHERE reported_carrier IS NOT NULL AND reported_prefix3 IS NOT NULL
      AND NOT coalesce(reported_protected, false)
),
by_prefix AS (
    SELECT carrier, 3 AS prefix_len, reported_prefix3 AS prefix, reported_e164_int, reporter_e164_int, in_window
    FROM complaints
    UNION ALL
    SELECT carrier, 5, reported_prefix5, reported_e164_int, reporter_e164_int, in_window
    FROM complaints WHERE reported_prefix5 IS NOT NULL
),
counted AS (
    SELECT carrier, prefix_len, prefix,
           count_if(in_window)                                          AS reports,
           count(DISTINCT reported_e164_int) FILTER (WHERE in_window)   AS distinct_numbers,
           count(DISTINCT reporter_e164_int) FILTER (WHERE in_window)   AS distinct_reporters,
           count_if(NOT in_window)                                      AS baseline_reports
    FROM by_prefix
    GROUP BY carrier, prefix_len, prefix
    HAVING count_if(in_window) > 0
)
SELECT
    $run_date, carrier, prefix_len, prefix, reports, distinct_numbers, distinct_reporters, baseline_reports,
    baseline_reports * $window_days / $baseline_days                                        AS expected_reports,
    reports / nullif(baseline_reports * $window_days / $baseline_days, 0)                   AS ratio,
    prefix_len = 3 AND list_contains($watched, carrier || '/' || prefix)                    AS watched,
    reports >= $min_reports
      AND coalesce(reports / nullif(baseline_reports * $window_days / $baseline_days, 0) >= $min_ratio, true) AS is_hotspot,
    $run_id
FROM counted;
