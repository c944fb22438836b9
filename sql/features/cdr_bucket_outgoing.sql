-- Per (carrier, bucket) pass: counting features of the carrier's own subscribers over the window's
-- files of this bucket. Own subscriber = current carrier (_cdr_ported) else prefix carrier = $carrier;
-- the carrier's CDRs also hold other networks' callers ringing its subscribers, which are not its own.
-- Parameters: $files, $carrier, $short_call_seconds, $night_start, $night_end.
CREATE OR REPLACE TEMP TABLE _cdr_out AS
SELECT
    o.a_number,
    count_if(o.event_type = 'voice')                                                   AS calls_out,
    count_if(o.event_type = 'sms')                                                     AS sms_out,
    count(DISTINCT o.b_number)                                                         AS distinct_callees,
    count_if(o.event_type = 'voice' AND o.duration_s > 0)                              AS calls_answered,
    count_if(o.event_type = 'voice' AND o.duration_s > 0
             AND o.duration_s < $short_call_seconds)                                   AS calls_short,
    count_if(o.event_type = 'voice' AND o.duration_s = 0)                              AS calls_unanswered,
    count_if(CASE WHEN $night_start > $night_end
                  THEN o.local_hour >= $night_start OR o.local_hour < $night_end
                  ELSE o.local_hour >= $night_start AND o.local_hour < $night_end END) AS night_events,
    count(o.b_number)                                                                  AS events_with_b,
    count_if(o.b_number IS NOT NULL AND h.a_number IS NULL)                            AS events_to_new,
    count(DISTINCT o.cell_id)                                                          AS distinct_cells,
    coalesce(sum(o.duration_s) FILTER (WHERE o.event_type = 'voice'), 0)               AS out_duration_s,
    min(o.start_time)                                                                  AS first_event_at,
    max(o.start_time)                                                                  AS last_event_at
FROM read_parquet($files) o
LEFT JOIN _cdr_ported p ON p.a_number = o.a_number
LEFT JOIN _cdr_hist_pairs h ON h.a_number = o.a_number AND h.b_number = o.b_number
WHERE coalesce(p.carrier, o.a_carrier) = $carrier
GROUP BY o.a_number;
