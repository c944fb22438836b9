-- Complaints whose source is a brandname (sender ID) or a short code: not subscribers, so never
-- suspension candidates; the brandname owner and its SMS aggregator are for the regulator to pursue.
SELECT reported_kind AS source_kind, reported_national AS source,
       count(*) AS complaints,
       count(DISTINCT coalesce(reporter_e164, reporter_raw)) AS distinct_reporters,
       string_agg(DISTINCT category, ';' ORDER BY category) AS categories,
       min(received_at) AS first_reported_at, max(received_at) AS last_reported_at
FROM stg_complaints
WHERE reported_kind IN ('brandname', 'short_code', 'toll_free', 'premium')
  AND NOT coalesce(reported_protected, false)
  AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
GROUP BY ALL
ORDER BY complaints DESC, source_kind, source;
