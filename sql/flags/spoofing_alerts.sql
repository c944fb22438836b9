-- Complaints naming protected numbers (police lines, hotlines, emergency short codes) mean caller-ID
-- spoofing: they are alerts for the authorities, never suspension candidates.
SELECT
    reported_national                                   AS protected_number,
    count(*)                                            AS complaints,
    count(DISTINCT coalesce(reporter_e164, reporter_raw)) AS distinct_reporters,
    string_agg(DISTINCT coalesce(reporter_carrier, 'unknown'), ';' ORDER BY coalesce(reporter_carrier, 'unknown')) AS reporter_carriers,
    min(received_at)                                    AS first_reported_at,
    max(received_at)                                    AS last_reported_at
FROM stg_complaints
WHERE coalesce(reported_protected, false)
  AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
GROUP BY reported_national
ORDER BY complaints DESC, protected_number;
