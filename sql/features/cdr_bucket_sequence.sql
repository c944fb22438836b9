-- Per (carrier, bucket) pass: features of the ORDER of a subscriber's outgoing voice calls (one sort).
--   max_calls_burst: most calls starting within any half-open window of burst_us microseconds.
--   short_gaps: calls starting less than short_gap_us after the line was last free, i.e. after the
--   latest end (start + duration) of all its earlier calls in the window; overlapping calls count.
-- Parameters: files, carrier, burst_us, short_gap_us.
CREATE OR REPLACE TEMP TABLE _cdr_seq AS
WITH calls AS (
    SELECT o.a_number,
           epoch_us(o.start_time)                               AS t,
           epoch_us(o.start_time) + o.duration_s * 1000000::BIGINT AS t_end
    FROM read_parquet($files) o
    LEFT JOIN _cdr_ported p ON p.a_number = o.a_number
    WHERE o.event_type = 'voice' AND coalesce(p.carrier, o.a_carrier) = $carrier
),
ordered AS (
    SELECT a_number,
           count(*) OVER (PARTITION BY a_number ORDER BY t
                          RANGE BETWEEN $burst_us - 1 PRECEDING AND CURRENT ROW)            AS in_window,
           t - max(t_end) OVER (PARTITION BY a_number ORDER BY t
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)           AS gap_us
    FROM calls
)
SELECT a_number, max(in_window) AS max_calls_burst, count_if(gap_us < $short_gap_us) AS short_gaps
FROM ordered
GROUP BY a_number;
