-- Per (carrier, bucket) pass: one feature row per own subscriber with outgoing events in the window.
-- imei_max_subscribers starts at 1 (0 without a handset) and is raised by features/cdr_imei_sharing.
-- Parameters: $run_date, $run_id, $carrier, $window_days.
INSERT INTO cdr_subscriber_features
WITH imeis AS (
    SELECT a_number, count(*) AS distinct_imeis FROM _cdr_imei_bucket GROUP BY a_number
)
SELECT
    $run_date, $carrier, o.a_number, $window_days,
    o.calls_out, o.sms_out, o.distinct_callees,
    o.calls_answered, o.calls_short, o.calls_unanswered,
    o.calls_short / nullif(o.calls_answered, 0),
    o.calls_unanswered / nullif(o.calls_out, 0),
    o.night_events,
    o.night_events / nullif(o.calls_out + o.sms_out, 0),
    coalesce(s.max_calls_burst, 0),
    coalesce(s.short_gaps, 0),
    coalesce(s.short_gaps, 0) / nullif(o.calls_out - 1, 0),
    o.events_to_new,
    o.events_to_new / nullif(o.events_with_b, 0),
    coalesce(i.calls_in, 0),
    coalesce(i.sms_in, 0),
    coalesce(i.calls_in, 0) / nullif(o.calls_out, 0),
    o.distinct_cells,
    coalesce(m.distinct_imeis, 0),
    coalesce(m.distinct_imeis, 0) > 1,
    CASE WHEN m.distinct_imeis > 0 THEN 1 ELSE 0 END,
    o.out_duration_s,
    o.first_event_at, o.last_event_at,
    $run_id
FROM _cdr_out o
LEFT JOIN _cdr_seq s ON s.a_number = o.a_number
LEFT JOIN _cdr_in i ON i.b_number = o.a_number
LEFT JOIN imeis m ON m.a_number = o.a_number;
