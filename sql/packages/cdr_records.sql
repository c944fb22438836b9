-- cdr_records.csv: this carrier's raw CDR rows of the requested numbers (pkg_numbers) in the request
-- period, on the days it held them: direction 'out' = the number is the A-party (read from the numbers'
-- buckets, $out_files), 'in' = the number is the B-party (the lake is bucketed by caller, so every bucket
-- of the period's days, $all_files). Timestamps stay UTC instants; the writer renders them with an offset.
WITH days AS (
    SELECT CAST(d AS DATE) AS day
    FROM generate_series(CAST($period_from AS TIMESTAMP), CAST($period_to AS TIMESTAMP), INTERVAL 1 DAY) t(d)
),
held AS (
    SELECT n.e164_int, d.day
    FROM pkg_numbers n CROSS JOIN days d
    WHERE carrier_on(n.e164_int, n.prefix_carrier, d.day) = $carrier
),
outgoing AS (
    SELECT 'out' AS direction, o.*
    FROM read_parquet($out_files, hive_partitioning = true) o
    JOIN held h ON h.e164_int = o.a_number AND h.day = o.day
),
incoming AS (
    SELECT 'in' AS direction, o.*
    FROM read_parquet($all_files, hive_partitioning = true) o
    JOIN held h ON h.e164_int = o.b_number AND h.day = o.day
),
records AS (
    SELECT * FROM outgoing UNION ALL SELECT * FROM incoming
)
SELECT record_id, direction, day, start_time,
       '+' || CAST(a_number AS VARCHAR) AS a_number,
       '+' || CAST(b_number AS VARCHAR) AS b_number,
       event_type, duration_s, cell_id, CAST(imei AS VARCHAR) AS imei
FROM records
ORDER BY start_time, record_id, direction;
