-- Per (carrier, bucket) pass: counting features of the carrier's own subscribers over the window's
-- files of this bucket. Own subscriber = current carrier (_cdr_ported) else prefix carrier = carrier;
-- the carrier's CDRs also hold other networks' callers ringing its subscribers, which are not its own.
-- Distinct counts go through list_unique(list(...)): exact, and cheaper here than count(DISTINCT) because
-- the lake files are sorted by caller. A cell id without a numeric key is hashed (collisions among one
-- subscriber's handful of cells are negligible). Parameters: files, carrier, short_call_seconds,
-- night_start, night_end.
CREATE OR REPLACE TEMP TABLE _cdr_out AS
WITH rows AS (
    SELECT o.a_number, o.b_number, o.duration_s, o.local_hour, o.start_time, o.cell_key, o.cell_id, o.imei,
           o.event_type = 'voice' AS voice,
           h.a_number IS NULL AS new_callee
    FROM read_parquet($files) o
    LEFT JOIN _cdr_ported p ON p.a_number = o.a_number
    LEFT JOIN _cdr_hist_pairs h ON h.a_number = o.a_number AND h.b_number = o.b_number
    WHERE coalesce(p.carrier, o.a_carrier) = $carrier
)
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
    count_if(b_number IS NOT NULL AND new_callee)                                  AS events_to_new,
    list_unique(list(b_number))                                                    AS distinct_callees,
    list_unique(list(coalesce(cell_key, hash(cell_id)::BIGINT)))                   AS distinct_cells,
    list_distinct(list(imei))                                                      AS imeis,
    coalesce(sum(duration_s) FILTER (WHERE voice), 0)                              AS out_duration_s,
    min(start_time)                                                                AS first_event_at,
    max(start_time)                                                                AS last_event_at
FROM rows
GROUP BY a_number;

-- The (carrier, handset, subscriber) pairs, kept across buckets for features/cdr_imei_sharing.
INSERT INTO _cdr_imei_pairs
SELECT $carrier, unnest(imeis), a_number FROM _cdr_out WHERE len(imeis) > 0;
