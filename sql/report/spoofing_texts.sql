-- The latest complaint text about each spoofing-alert number in the window (what the impostor said):
-- attacker-controlled, escaped by the report. Parameters: run_date, tz, window_days, numbers (national
-- forms of the alert numbers), excerpt_chars.
SELECT reported_national AS number, left(content, $excerpt_chars) AS latest_complaint
FROM stg_complaints
WHERE list_contains($numbers, reported_national)
  AND content IS NOT NULL
  AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
QUALIFY row_number() OVER (PARTITION BY reported_national
                           ORDER BY received_at DESC, complaint_id DESC, source_sha256 DESC) = 1
ORDER BY number;
