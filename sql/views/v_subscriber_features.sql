-- Analyst view: one row per number and run date with everything the rules can see about it — its own
-- outgoing behaviour in its carrier's CDRs (cdr_subscriber_features) and what citizens reported about it
-- (complaint_subscriber_features) over the same feature window, plus non-personal registry facts as of
-- the run date. A number appears when either side has data; the other side's columns are then NULL.
-- No names, dates of birth or ID numbers: the registry contributes plan, status, line age and KYC state only.
CREATE OR REPLACE VIEW v_subscriber_features AS
WITH joined AS (
    SELECT coalesce(f.run_date, c.run_date)        AS run_date,
           coalesce(f.msisdn_int, c.msisdn_int)    AS msisdn_int,
           coalesce(f.carrier, c.carrier)          AS carrier,
           coalesce(f.window_days, c.window_days)  AS window_days,
           f.calls_out, f.sms_out, f.distinct_callees, f.calls_answered, f.calls_short, f.calls_unanswered,
           f.short_call_share, f.unanswered_share, f.night_events, f.night_share, f.max_calls_burst,
           f.short_gaps, f.short_gap_share, f.events_to_new, f.new_callee_share, f.calls_in, f.sms_in,
           f.in_out_ratio, f.distinct_cells, f.distinct_imeis, f.imei_changed, f.imei_max_subscribers,
           f.out_duration_s, f.first_event_at, f.last_event_at,
           c.reports, c.distinct_reporters, c.reports_call, c.reports_sms, c.reports_impersonation,
           c.reports_fraud, c.reports_spam_call, c.reports_spam_sms, c.reports_harassment, c.reports_other,
           c.first_reported_at, c.last_reported_at, c.corroborated_reports, c.uncorroborated_reports,
           c.spoofing_signals, c.callees, c.complained_callees, c.callee_complaint_share,
           coalesce(f.run_id, c.run_id)            AS run_id
    FROM cdr_subscriber_features f
    FULL OUTER JOIN complaint_subscriber_features c
      ON c.run_date = f.run_date AND c.msisdn_int = f.msisdn_int
)
SELECT j.run_date, j.carrier, '+' || CAST(j.msisdn_int AS VARCHAR) AS msisdn,
       '0' || substr(CAST(j.msisdn_int AS VARCHAR), 3) AS msisdn_national, j.msisdn_int, j.window_days,
       j.* EXCLUDE (run_date, carrier, msisdn_int, window_days, run_id),
       r.plan, r.status AS registry_status, r.kyc_verified, r.registration_point,
       CAST(j.run_date - r.activated_on AS INTEGER) AS subscriber_age_days,
       j.run_id
FROM joined j
LEFT JOIN registry_subscribers r
  ON r.msisdn_int = j.msisdn_int AND r.carrier = j.carrier
 AND r.valid_from <= j.run_date AND (r.valid_to IS NULL OR r.valid_to > j.run_date);
