-- The strongest exported candidates of the run date (monitor is not exported), with an excerpt of the
-- latest complaint about each in the window — attacker-controlled text, escaped by the report.
-- Parameters: run_date, tz, window_days, max_rows, excerpt_chars.
WITH top AS (
    SELECT msisdn_int, msisdn_national, coalesce(carrier, 'unknown') AS carrier, action, action_rank, reasons,
           score, reports, distinct_reporters, corroborated_reports
    FROM candidates
    WHERE run_date = $run_date AND action <> 'monitor'
    ORDER BY action_rank, score DESC, msisdn_national
    LIMIT $max_rows
),
latest AS (
    SELECT reported_e164_int AS msisdn_int, content
    FROM stg_complaints
    WHERE reported_e164_int IN (SELECT msisdn_int FROM top)
      AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
    QUALIFY row_number() OVER (PARTITION BY reported_e164_int
                               ORDER BY received_at DESC, complaint_id DESC, source_sha256 DESC) = 1
)
SELECT t.msisdn_national AS number, t.carrier, t.action, t.reasons, round(t.score, 2) AS score, t.reports,
       t.distinct_reporters, t.corroborated_reports, coalesce(left(l.content, $excerpt_chars), '') AS latest_complaint
FROM top t
LEFT JOIN latest l USING (msisdn_int)
ORDER BY t.action_rank, t.score DESC, t.msisdn_national;
