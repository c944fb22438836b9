-- Complaint joins, step 5: per reported number and run date, what the complaints of the feature window
-- say, with their corroboration and the share of the number's callees (window, any lake) who complained
-- about it. Writes complaint_subscriber_features. Parameters: run_date, run_id, window_days, tz.
DELETE FROM complaint_subscriber_features WHERE run_date = $run_date;

INSERT INTO complaint_subscriber_features
WITH joined AS (
    SELECT w.*, c.corroborated, c.spoofing_signal
    FROM _complaints_window w
    JOIN complaint_corroboration c
      ON c.run_date = $run_date AND c.complaint_id = w.complaint_id AND c.source_sha256 = w.source_sha256
),
callees AS (
    SELECT DISTINCT a_number, b_number
    FROM cdr_reported_contacts
    WHERE run_date = $run_date AND b_number IS NOT NULL
      AND CAST(timezone($tz, start_time) AS DATE) BETWEEN $run_date - ($window_days - 1) AND $run_date
),
reporters AS (
    SELECT DISTINCT reported_e164_int AS a_number, reporter_e164_int AS b_number
    FROM _complaints_window
    WHERE reporter_e164_int IS NOT NULL
),
callee_stats AS (
    SELECT k.a_number, count(*) AS callees, count(r.b_number) AS complained_callees
    FROM callees k
    LEFT JOIN reporters r ON r.a_number = k.a_number AND r.b_number = k.b_number
    GROUP BY k.a_number
)
SELECT
    $run_date,
    any_value(j.carrier),
    j.reported_e164_int,
    $window_days,
    count(*),
    count(DISTINCT coalesce(CAST(j.reporter_e164_int AS VARCHAR), j.reporter_raw)),
    count(*) FILTER (WHERE j.kind = 'call'),
    count(*) FILTER (WHERE j.kind = 'sms'),
    count(*) FILTER (WHERE j.category = 'impersonation'),
    count(*) FILTER (WHERE j.category = 'fraud'),
    count(*) FILTER (WHERE j.category = 'spam_call'),
    count(*) FILTER (WHERE j.category = 'spam_sms'),
    count(*) FILTER (WHERE j.category = 'harassment'),
    count(*) FILTER (WHERE j.category = 'other'),
    min(j.received_at),
    max(j.received_at),
    count(*) FILTER (WHERE j.corroborated),
    count(*) FILTER (WHERE NOT j.corroborated),
    count(*) FILTER (WHERE j.spoofing_signal),
    coalesce(any_value(s.callees), 0),
    coalesce(any_value(s.complained_callees), 0),
    any_value(s.complained_callees) / nullif(any_value(s.callees), 0),
    $run_id
FROM joined j
LEFT JOIN callee_stats s ON s.a_number = j.reported_e164_int
GROUP BY j.reported_e164_int;
