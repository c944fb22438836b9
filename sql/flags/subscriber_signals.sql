-- Signals per reported on-net mobile number over the feature window ending on the run date (local days).
-- Protected numbers never get here: complaints about them are spoofing alerts.
INSERT INTO subscriber_signals
WITH windowed AS (
    SELECT *
    FROM stg_complaints
    WHERE reported_kind = 'mobile'
      AND NOT coalesce(reported_protected, false)
      AND reported_e164_int IS NOT NULL
      AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
)
SELECT
    $run_date                                   AS run_date,
    $run_id                                     AS run_id,
    reported_e164_int                           AS msisdn_int,
    any_value(reported_e164)                    AS msisdn,
    any_value(reported_national)                AS msisdn_national,
    any_value(reported_carrier)                 AS carrier,
    any_value(reported_prefix3)                 AS prefix,
    count(*)                                    AS reports,
    count(DISTINCT coalesce(reporter_e164, reporter_raw)) AS distinct_reporters,
    0                                           AS corroborated_reports,
    min(received_at)                            AS first_reported_at,
    max(received_at)                            AS last_reported_at
FROM windowed
GROUP BY reported_e164_int;
