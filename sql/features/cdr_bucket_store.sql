-- Per (carrier, bucket) pass: one feature row per own subscriber with outgoing events in the window.
-- imei_max_subscribers starts at 1 (0 without a handset) and is raised by features/cdr_imei_sharing.
-- Parameters: run_date, run_id, carrier, window_days.
INSERT INTO cdr_subscriber_features
SELECT
    $run_date, $carrier, o.a_number, $window_days,
    o.calls_out, o.events_out - o.calls_out, o.distinct_callees,
    o.calls_answered, o.calls_short, o.calls_out - o.calls_answered,
    o.calls_short / nullif(o.calls_answered, 0),
    (o.calls_out - o.calls_answered) / nullif(o.calls_out, 0),
    o.night_events,
    o.night_events / o.events_out,
    coalesce(s.max_calls_burst, 0),
    coalesce(s.short_gaps, 0),
    coalesce(s.short_gaps, 0) / nullif(o.calls_out - 1, 0),
    o.events_to_new,
    o.events_to_new / nullif(o.events_with_b, 0),
    coalesce(i.calls_in, 0),
    coalesce(i.sms_in, 0),
    coalesce(i.calls_in, 0) / nullif(o.calls_out, 0),
    o.distinct_cells,
    len(o.imeis),
    len(o.imeis) > 1,
    least(len(o.imeis), 1),
    o.out_duration_s,
    o.first_event_at, o.last_event_at,
    $run_id
FROM _cdr_out o
LEFT JOIN _cdr_seq s ON s.a_number = o.a_number
LEFT JOIN _cdr_in i ON i.b_number = o.a_number;
