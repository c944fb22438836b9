-- Complaints per 3-digit national prefix and local day over the feature window (the report's heat map),
-- with the prefix's hot-spot verdict for the run date. Parameters: run_date, tz, window_days.
WITH daily AS (
    SELECT reported_prefix3 AS prefix,
           CAST(timezone($tz, received_at) AS DATE) AS day,
           count(*) AS complaints
    FROM stg_complaints
    WHERE reported_prefix3 IS NOT NULL
      AND NOT coalesce(reported_protected, false)
      AND CAST(timezone($tz, received_at) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
    GROUP BY ALL
),
verdict AS (
    SELECT prefix, bool_or(is_hotspot) AS is_hotspot, bool_or(watched) AS watched,
           string_agg(DISTINCT carrier, ';' ORDER BY carrier) AS carrier
    FROM prefix_hotspots
    WHERE run_date = $run_date AND prefix_len = 3
    GROUP BY prefix
)
SELECT d.prefix, coalesce(v.carrier, '') AS carrier, d.day, d.complaints,
       coalesce(v.is_hotspot, false) AS is_hotspot, coalesce(v.watched, false) AS watched
FROM daily d
LEFT JOIN verdict v USING (prefix)
ORDER BY d.prefix, d.day;
