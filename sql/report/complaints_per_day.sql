-- Complaints per local day over the feature window, by the reported number's carrier (its original
-- carrier by prefix; numbers without one are labelled by kind: brandname, short_code, protected, …),
-- what was received (call | sms) and category. Parameters: run_date, tz, window_days.
SELECT CAST(timezone($tz, received_at) AS DATE)                                   AS day,
       CASE WHEN coalesce(reported_protected, false) THEN 'protected'
            ELSE coalesce(reported_carrier, reported_kind) END                    AS carrier,
       coalesce(kind, 'unknown')                                                 AS kind,
       category,
       count(*)                                                                  AS complaints
FROM stg_complaints
WHERE CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
GROUP BY ALL
ORDER BY day, carrier, kind, category;
