-- cdr_summary.csv: per requested number (pkg_numbers) and local day of the request period, the CDR
-- features of DESIGN §7 from this carrier's lake — on the days the carrier held the number
-- (carrier_on: a ported number's days with its previous network are that network's records, not ours).
-- Same definitions as the feature stage (features/cdr_bucket_features) with the day as the window:
--   events_to_new: calls/SMS to a B-number the subscriber had not contacted in the $history_days days
--     before that day nor earlier that day (one per such number); max_calls_burst: most calls starting within any half-open $burst_us window;
--   short_gaps: calls starting less than $short_gap_us after the line was last free (earlier calls that day).
-- $files: the numbers' buckets over [$history_from, $period_to]; $inbound_files: the callee-bucketed
-- projection over the period (the driver passes an empty stand-in file for an empty list).
WITH days AS (
    SELECT CAST(d AS DATE) AS day
    FROM generate_series(CAST($history_from AS TIMESTAMP), CAST($period_to AS TIMESTAMP), INTERVAL 1 DAY) t(d)
),
held AS (
    SELECT n.e164_int, d.day
    FROM pkg_numbers n CROSS JOIN days d
    WHERE carrier_on(n.e164_int, n.prefix_carrier, d.day) = $carrier
),
events AS (
    SELECT o.a_number, o.b_number, o.day, o.start_time, o.duration_s, o.local_hour, o.cell_key, o.cell_id, o.imei,
           o.event_type = 'voice' AS voice
    FROM read_parquet($files, hive_partitioning = true) o
    JOIN held h ON h.e164_int = o.a_number AND h.day = o.day
),
in_period AS (
    SELECT e.*,
           b_number IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM events p
               WHERE p.a_number = e.a_number AND p.b_number = e.b_number
                 AND p.day >= e.day - $history_days AND p.day < e.day) AS to_new
    FROM events e
    WHERE e.day BETWEEN $period_from AND $period_to
),
counts AS (
    SELECT a_number, day,
           count(*)                                                                       AS events_out,
           count_if(voice)                                                                AS calls_out,
           count_if(voice AND duration_s > 0)                                             AS calls_answered,
           count_if(voice AND duration_s > 0 AND duration_s < $short_call_seconds)        AS calls_short,
           count_if(CASE WHEN $night_start > $night_end
                         THEN local_hour >= $night_start OR local_hour < $night_end
                         ELSE local_hour >= $night_start AND local_hour < $night_end END) AS night_events,
           count(b_number)                                                                AS events_with_b,
           count(DISTINCT b_number) FILTER (WHERE to_new)                                 AS events_to_new,
           count(DISTINCT b_number)                                                       AS distinct_callees,
           count(DISTINCT coalesce(cell_key, hash(cell_id)::BIGINT))                      AS distinct_cells,
           count(DISTINCT imei)                                                           AS distinct_imeis,
           coalesce(sum(duration_s) FILTER (WHERE voice), 0)                              AS out_duration_s,
           min(start_time)                                                                AS first_event_at,
           max(start_time)                                                                AS last_event_at
    FROM in_period
    GROUP BY ALL
),
ordered AS (
    SELECT a_number, day,
           count(*) OVER (PARTITION BY a_number, day ORDER BY epoch_us(start_time)
                          RANGE BETWEEN $burst_us - 1 PRECEDING AND CURRENT ROW)                 AS in_window,
           epoch_us(start_time) - max(epoch_us(start_time) + duration_s * 1000000::BIGINT)
               OVER (PARTITION BY a_number, day ORDER BY epoch_us(start_time)
                     ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)                           AS gap_us
    FROM in_period
    WHERE voice
),
sequence AS (
    SELECT a_number, day, max(in_window) AS max_calls_burst, count_if(gap_us < $short_gap_us) AS short_gaps
    FROM ordered
    GROUP BY ALL
),
inbound AS (
    SELECT i.b_number AS a_number, i.day,
           count_if(i.event_type = 'voice') AS calls_in, count_if(i.event_type = 'sms') AS sms_in
    FROM read_parquet($inbound_files, hive_partitioning = true) i
    JOIN held h ON h.e164_int = i.b_number AND h.day = i.day
    WHERE i.day BETWEEN $period_from AND $period_to
    GROUP BY ALL
),
keys AS (
    SELECT a_number, day FROM counts UNION SELECT a_number, day FROM inbound
)
SELECT
    '+' || CAST(k.a_number AS VARCHAR)                                          AS msisdn,
    '0' || substr(CAST(k.a_number AS VARCHAR), 3)                               AS msisdn_national,
    k.day,
    coalesce(c.calls_out, 0)                                                    AS calls_out,
    coalesce(c.events_out - c.calls_out, 0)                                     AS sms_out,
    coalesce(c.distinct_callees, 0)                                             AS distinct_callees,
    coalesce(c.calls_answered, 0)                                               AS calls_answered,
    coalesce(c.calls_short, 0)                                                  AS calls_short,
    coalesce(c.calls_out - c.calls_answered, 0)                                 AS calls_unanswered,
    round(c.calls_short / nullif(c.calls_answered, 0), 4)                       AS short_call_share,
    round((c.calls_out - c.calls_answered) / nullif(c.calls_out, 0), 4)         AS unanswered_share,
    coalesce(c.night_events, 0)                                                 AS night_events,
    round(c.night_events / nullif(c.events_out, 0), 4)                          AS night_share,
    coalesce(s.max_calls_burst, 0)                                              AS max_calls_burst,
    coalesce(s.short_gaps, 0)                                                   AS short_gaps,
    round(s.short_gaps / nullif(c.calls_out - 1, 0), 4)                         AS short_gap_share,
    coalesce(c.events_to_new, 0)                                                AS events_to_new,
    round(c.events_to_new / nullif(c.events_with_b, 0), 4)                      AS new_callee_share,
    coalesce(i.calls_in, 0)                                                     AS calls_in,
    coalesce(i.sms_in, 0)                                                       AS sms_in,
    round(i.calls_in / nullif(c.calls_out, 0), 4)                               AS in_out_ratio,
    coalesce(c.distinct_cells, 0)                                               AS distinct_cells,
    coalesce(c.distinct_imeis, 0)                                               AS distinct_imeis,
    coalesce(c.distinct_imeis, 0) > 1                                           AS imei_changed,
    coalesce(c.out_duration_s, 0)                                               AS out_duration_s,
    c.first_event_at,
    c.last_event_at
FROM keys k
LEFT JOIN counts c ON c.a_number = k.a_number AND c.day = k.day
LEFT JOIN sequence s ON s.a_number = k.a_number AND s.day = k.day
LEFT JOIN inbound i ON i.a_number = k.a_number AND i.day = k.day
ORDER BY msisdn, k.day;
