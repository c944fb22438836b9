-- Feature stage, one (carrier, bucket) pass: every feature of the carrier's own subscribers whose
-- A-number falls in this bucket, over the window's files of this bucket, in ONE query. A pass reads
-- only files (lake + the ported-numbers snapshot), never the warehouse, so it runs the same in-process
-- or on a Dask worker; the driver writes its rows to a part file and features/cdr_load_parts inserts
-- the parts in one transaction.
--   own subscriber: carrier on the run date (ported_file: current_carrier_on of the run date, written
--     by features/ported_on_run_date) else prefix carrier = carrier.
--     The carrier's CDRs also hold other networks' callers ringing its subscribers: not its own.
--   events_to_new: calls/SMS to a B-number not contacted before: not in the history files (the
--     history_days before the window) nor earlier in the window. Only the first event to such a number
--     is new, so this is the number of distinct such callees (repeat calls to a number first called
--     this week are calls to a known number). Exact as long as feature_days <= history_days.
--   distinct counts: list_unique(list(...)), exact, cheaper than count(DISTINCT) on caller-sorted files.
--   a cell id without a numeric key is hashed (collisions among one subscriber's cells are negligible).
--   max_calls_burst: most calls starting within any half-open window of burst_us microseconds.
--   short_gaps: calls starting less than short_gap_us after the line was last free (the latest end of
--     all its earlier calls in the window); overlapping calls count as short gaps.
--   inbound: from the callee-bucketed projection, same bucket number = exactly this bucket's subscribers.
-- imei_max_subscribers starts at 1 (0 without a handset); features/cdr_imei_sharing raises it.
-- Parameters: run_date, run_id, carrier, bucket, buckets, window_days, files, history_files,
-- inbound_files (lists; the driver passes an empty Parquet file for an empty list), ported_file,
-- short_call_seconds, night_start, night_end, burst_us, short_gap_us.
WITH ported AS (
    SELECT a_number, carrier
    FROM read_parquet($ported_file)
    WHERE a_number % $buckets = $bucket
),
history AS (
    SELECT DISTINCT a_number, b_number
    FROM read_parquet($history_files)
    WHERE b_number IS NOT NULL
),
outgoing AS NOT MATERIALIZED (
    SELECT o.a_number, o.b_number, o.duration_s, o.local_hour, o.start_time, o.cell_key, o.cell_id, o.imei,
           o.event_type = 'voice'   AS voice,
           h.a_number IS NULL       AS new_callee
    FROM read_parquet($files) o
    LEFT JOIN ported p ON p.a_number = o.a_number
    LEFT JOIN history h ON h.a_number = o.a_number AND h.b_number = o.b_number
    WHERE coalesce(p.carrier, o.a_carrier) = $carrier
),
counts AS (
    SELECT
        a_number,
        count(*)                                                                       AS events_out,
        count_if(voice)                                                                AS calls_out,
        count_if(voice AND duration_s > 0)                                             AS calls_answered,
        count_if(voice AND duration_s > 0 AND duration_s < $short_call_seconds)        AS calls_short,
        count_if(CASE WHEN $night_start > $night_end
                      THEN local_hour >= $night_start OR local_hour < $night_end
                      ELSE local_hour >= $night_start AND local_hour < $night_end END) AS night_events,
        count(b_number)                                                                AS events_with_b,
        coalesce(list_unique(list(b_number) FILTER (WHERE new_callee)), 0)             AS events_to_new,
        list_unique(list(b_number))                                                    AS distinct_callees,
        list_unique(list(CASE WHEN cell_id IS NOT NULL THEN coalesce(cell_key::UBIGINT, hash(cell_id)) END)) AS distinct_cells,
        list_sort(list_distinct(list(imei)))                                           AS imeis,
        coalesce(sum(duration_s) FILTER (WHERE voice), 0)                              AS out_duration_s,
        min(start_time)                                                                AS first_event_at,
        max(start_time)                                                                AS last_event_at
    FROM outgoing
    GROUP BY a_number
),
calls AS (
    SELECT o.a_number,
           epoch_us(o.start_time)                                AS t,
           epoch_us(o.start_time) + o.duration_s * 1000000::BIGINT AS t_end
    FROM read_parquet($files) o
    LEFT JOIN ported p ON p.a_number = o.a_number
    WHERE o.event_type = 'voice' AND coalesce(p.carrier, o.a_carrier) = $carrier
),
ordered AS (
    SELECT a_number,
           count(*) OVER (PARTITION BY a_number ORDER BY t
                          RANGE BETWEEN $burst_us - 1 PRECEDING AND CURRENT ROW)  AS in_window,
           t - max(t_end) OVER (PARTITION BY a_number ORDER BY t
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS gap_us
    FROM calls
),
sequence AS (
    SELECT a_number, max(in_window) AS max_calls_burst, count_if(gap_us < $short_gap_us) AS short_gaps
    FROM ordered
    GROUP BY a_number
),
inbound AS (
    SELECT b_number, count_if(event_type = 'voice') AS calls_in, count_if(event_type = 'sms') AS sms_in
    FROM read_parquet($inbound_files)
    GROUP BY b_number
)
SELECT
    $run_date::DATE                                          AS run_date,
    $carrier::VARCHAR                                        AS carrier,
    c.a_number                                               AS msisdn_int,
    $window_days::INTEGER                                    AS window_days,
    c.calls_out,
    c.events_out - c.calls_out                               AS sms_out,
    c.distinct_callees,
    c.calls_answered,
    c.calls_short,
    c.calls_out - c.calls_answered                           AS calls_unanswered,
    c.calls_short / nullif(c.calls_answered, 0)              AS short_call_share,
    (c.calls_out - c.calls_answered) / nullif(c.calls_out, 0) AS unanswered_share,
    c.night_events,
    c.night_events / c.events_out                            AS night_share,
    coalesce(s.max_calls_burst, 0)                           AS max_calls_burst,
    coalesce(s.short_gaps, 0)                                AS short_gaps,
    coalesce(s.short_gaps, 0) / nullif(c.calls_out - 1, 0)   AS short_gap_share,
    c.events_to_new,
    c.events_to_new / nullif(c.events_with_b, 0)             AS new_callee_share,
    coalesce(i.calls_in, 0)                                  AS calls_in,
    coalesce(i.sms_in, 0)                                    AS sms_in,
    coalesce(i.calls_in, 0) / nullif(c.calls_out, 0)         AS in_out_ratio,
    c.distinct_cells,
    len(c.imeis)                                             AS distinct_imeis,
    len(c.imeis) > 1                                         AS imei_changed,
    least(len(c.imeis), 1)                                   AS imei_max_subscribers,
    c.imeis,
    c.out_duration_s,
    c.first_event_at,
    c.last_event_at,
    $run_id::VARCHAR                                         AS run_id
FROM counts c
LEFT JOIN sequence s ON s.a_number = c.a_number
LEFT JOIN inbound i ON i.b_number = c.a_number
