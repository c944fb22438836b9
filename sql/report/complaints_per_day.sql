-- Complaints per local day and reported (original) carrier over the window.
SELECT CAST(timezone($tz, received_at) AS DATE) AS day,
       coalesce(reported_carrier, reported_kind) AS carrier,
       count(*) AS complaints
FROM stg_complaints
WHERE CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
GROUP BY ALL ORDER BY day, carrier;
