-- Complaint joins, step 2: which local days of CDRs the contact search needs, and which lake buckets
-- hold reported numbers (the driver reads only those). Parameters: tz.
SELECT
    (SELECT CAST(timezone($tz, min(window_from)) AS DATE) FROM _complaints_window) AS first_day,
    (SELECT CAST(timezone($tz, max(window_to)) AS DATE) FROM _complaints_window)   AS last_day,
    (SELECT list(DISTINCT bucket ORDER BY bucket) FROM _reported_numbers)          AS buckets;
