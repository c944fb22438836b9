-- Caller-ID spoofing alerts, never suspension candidates:
--   protected_number       complaints naming a protected number (police lines, hotlines, 113 …)
--   uncorroborated_on_net  an on-net number complained about while our CDRs show it never called or
--                          messaged any of its reporters (its number was likely forged)
WITH protected AS (
    SELECT 'protected_number' AS alert_kind, reported_national AS number,
           count(*) AS complaints,
           count(DISTINCT coalesce(reporter_e164, reporter_raw)) AS distinct_reporters,
           string_agg(DISTINCT coalesce(reporter_carrier, 'unknown'), ';' ORDER BY coalesce(reporter_carrier, 'unknown')) AS reporter_carriers,
           min(received_at) AS first_reported_at, max(received_at) AS last_reported_at
    FROM stg_complaints
    WHERE coalesce(reported_protected, false)
      AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
    GROUP BY reported_national
),
forged AS (
    SELECT 'uncorroborated_on_net' AS alert_kind, c.reported_national AS number,
           count(*) AS complaints,
           count(DISTINCT coalesce(c.reporter_e164, c.reporter_raw)) AS distinct_reporters,
           string_agg(DISTINCT coalesce(c.reporter_carrier, 'unknown'), ';' ORDER BY coalesce(c.reporter_carrier, 'unknown')) AS reporter_carriers,
           min(c.received_at) AS first_reported_at, max(c.received_at) AS last_reported_at
    FROM complaint_corroboration k
    JOIN stg_complaints c ON c.complaint_id = k.complaint_id AND c.source_sha256 = k.source_sha256
    WHERE k.run_date = $run_date
      AND k.reported_e164_int NOT IN (
          SELECT reported_e164_int FROM complaint_corroboration WHERE run_date = $run_date AND corroborated)
    GROUP BY c.reported_national
    HAVING count_if(k.spoofing_signal) > 0
)
SELECT * FROM protected
UNION ALL
SELECT * FROM forged
ORDER BY alert_kind DESC, complaints DESC, number;
