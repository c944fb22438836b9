-- Complaint joins, step 1 (after complaint_carrier): the complaints received in the feature window (local days) that name a
-- number with an E.164 form, except protected numbers (those are spoofing alerts, never candidates),
-- with the time interval in which the CDRs must show the reported number contacting the reporter:
-- occurred_at ± corroboration_minutes, else the lookback_hours before received_at.
-- Parameters: run_date, window_days, tz, corroboration_minutes, lookback_hours, buckets.
CREATE OR REPLACE TEMP TABLE _complaints_window AS
SELECT
    complaint_id, source_sha256, channel, category, kind, received_at, occurred_at,
    reported_e164_int, reporter_e164_int, reporter_raw, reporter_carrier, carrier,
    coalesce(occurred_at, received_at)                                             AS anchor_at,
    CASE WHEN occurred_at IS NULL THEN 'received_at' ELSE 'occurred_at' END        AS anchor_kind,
    CASE WHEN occurred_at IS NULL THEN received_at - to_hours($lookback_hours)
         ELSE occurred_at - to_minutes($corroboration_minutes) END                 AS window_from,
    CASE WHEN occurred_at IS NULL THEN received_at
         ELSE occurred_at + to_minutes($corroboration_minutes) END                 AS window_to,
    CAST(timezone($tz, coalesce(occurred_at, received_at)) AS DATE)                AS anchor_day
FROM _complaint_carrier
WHERE reported_e164_int IS NOT NULL
  AND NOT coalesce(reported_protected, false)
  AND received_day BETWEEN $run_date - ($window_days - 1) AND $run_date;

-- The reported numbers and the bucket of the CDR lake their outgoing events are in.
CREATE OR REPLACE TEMP TABLE _reported_numbers AS
SELECT DISTINCT reported_e164_int AS a_number, reported_e164_int % $buckets AS bucket
FROM _complaints_window;
