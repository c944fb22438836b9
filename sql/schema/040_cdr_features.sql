-- CDR features per subscriber, complaint joins (corroboration) and prefix hot-spots.
-- Windows are local days (config [windows]); every table is keyed by run_date and rewritten whole for a
-- run date, so re-running a date replaces its rows. Numbers are E.164 digits as BIGINT (84912345678).

-- One row per carrier and A-party subscriber with at least one outgoing event in the feature window
-- (run_date - window_days + 1 .. run_date). "Subscriber of the carrier" = the A-party's current carrier
-- (current_carrier_on(run_date): its latest port, else the original carrier by prefix) equals the lake's carrier.
-- Shares are NULL when their denominator is 0.
CREATE TABLE IF NOT EXISTS cdr_subscriber_features (
    run_date                DATE NOT NULL,
    carrier                 VARCHAR NOT NULL,
    msisdn_int              BIGINT NOT NULL,
    window_days             INTEGER NOT NULL,
    calls_out               BIGINT NOT NULL,   -- outgoing voice calls
    sms_out                 BIGINT NOT NULL,   -- outgoing SMS
    distinct_callees        BIGINT NOT NULL,   -- distinct B-numbers of outgoing calls and SMS
    calls_answered          BIGINT NOT NULL,   -- voice, duration_s > 0
    calls_short             BIGINT NOT NULL,   -- voice, 0 < duration_s < short_call_seconds
    calls_unanswered        BIGINT NOT NULL,   -- voice, duration_s = 0
    short_call_share        DOUBLE,            -- calls_short / calls_answered
    unanswered_share        DOUBLE,            -- calls_unanswered / calls_out
    night_events            BIGINT NOT NULL,   -- calls and SMS starting in [night_start_hour, night_end_hour) local
    night_share             DOUBLE,            -- night_events / (calls_out + sms_out)
    max_calls_burst         BIGINT NOT NULL,   -- max calls starting within any burst_window_minutes (half-open)
    short_gaps              BIGINT NOT NULL,   -- idle gaps < short_gap_seconds between consecutive calls
    short_gap_share         DOUBLE,            -- short_gaps / (calls_out - 1)
    events_to_new           BIGINT NOT NULL,   -- calls and SMS to numbers not contacted before (history_days before the window, or earlier in it): one per such number
    new_callee_share        DOUBLE,            -- events_to_new / events with a B-number
    calls_in                BIGINT NOT NULL,   -- inbound voice calls seen in this carrier's CDRs
    sms_in                  BIGINT NOT NULL,
    in_out_ratio            DOUBLE,            -- calls_in / calls_out
    distinct_cells          BIGINT NOT NULL,   -- cells of outgoing events
    distinct_imeis          BIGINT NOT NULL,   -- handsets of outgoing events
    imei_changed            BOOLEAN NOT NULL,  -- more than one handset in the window
    imei_max_subscribers    BIGINT NOT NULL,   -- most A-numbers (this carrier) seen on any of its handsets in the window
    imeis                   BIGINT[] NOT NULL, -- the handsets (IMEI) of its outgoing events, sorted
    out_duration_s          BIGINT NOT NULL,   -- total seconds of outgoing calls
    first_event_at          TIMESTAMPTZ NOT NULL,
    last_event_at           TIMESTAMPTZ NOT NULL,
    run_id                  VARCHAR NOT NULL
);

-- CDR events of reported numbers (A-party = a number complained about in the window), from every
-- carrier's lake: the evidence corroboration and callee shares are computed from.
CREATE TABLE IF NOT EXISTS cdr_reported_contacts (
    run_date      DATE NOT NULL,
    carrier       VARCHAR NOT NULL,      -- lake the event was found in
    a_number      BIGINT NOT NULL,
    b_number      BIGINT,
    start_time    TIMESTAMPTZ NOT NULL,
    duration_s    INTEGER NOT NULL,
    event_type    VARCHAR NOT NULL,
    record_id     VARCHAR NOT NULL
);

-- One row per complaint received in the feature window that names a number (not protected numbers:
-- those are spoofing alerts). corroborated is NULL when it cannot be checked (no reporter number, or
-- no CDRs of either party's carrier for that day).
CREATE TABLE IF NOT EXISTS complaint_corroboration (
    run_date            DATE NOT NULL,
    complaint_id        VARCHAR NOT NULL,
    source_sha256       VARCHAR NOT NULL,
    reported_e164_int   BIGINT NOT NULL,
    reporter_e164_int   BIGINT,
    carrier             VARCHAR,               -- the reported number's carrier (v_complaint_carrier)
    anchor_at           TIMESTAMPTZ NOT NULL,  -- occurred_at, else received_at
    anchor_kind         VARCHAR NOT NULL,      -- occurred_at | received_at
    window_from         TIMESTAMPTZ NOT NULL,  -- contact searched in [window_from, window_to]
    window_to           TIMESTAMPTZ NOT NULL,
    on_net              BOOLEAN NOT NULL,      -- the reported number's carrier has CDRs for the anchor day
    checkable           BOOLEAN NOT NULL,
    corroborated        BOOLEAN,
    evidence_record_id  VARCHAR,               -- first matching CDR event
    evidence_at         TIMESTAMPTZ,
    spoofing_signal     BOOLEAN NOT NULL,      -- on-net, checkable and NOT corroborated
    run_id              VARCHAR NOT NULL
);

-- Complaint-side features per reported number and run date (window = feature window).
CREATE TABLE IF NOT EXISTS complaint_subscriber_features (
    run_date                DATE NOT NULL,
    carrier                 VARCHAR,
    msisdn_int              BIGINT NOT NULL,
    window_days             INTEGER NOT NULL,
    reports                 BIGINT NOT NULL,
    distinct_reporters      BIGINT NOT NULL,
    reports_call            BIGINT NOT NULL,
    reports_sms             BIGINT NOT NULL,
    reports_impersonation   BIGINT NOT NULL,
    reports_fraud           BIGINT NOT NULL,
    reports_spam_call       BIGINT NOT NULL,
    reports_spam_sms        BIGINT NOT NULL,
    reports_harassment      BIGINT NOT NULL,
    reports_other           BIGINT NOT NULL,
    first_reported_at       TIMESTAMPTZ NOT NULL,
    last_reported_at        TIMESTAMPTZ NOT NULL,
    corroborated_reports    BIGINT NOT NULL,
    uncorroborated_reports  BIGINT NOT NULL,   -- checked and not corroborated
    spoofing_signals        BIGINT NOT NULL,   -- uncorroborated reports while the number is on-net
    callees                 BIGINT NOT NULL,   -- distinct numbers it called/messaged in the window (all lakes)
    complained_callees      BIGINT NOT NULL,   -- of those, how many complained about it in the window
    callee_complaint_share  DOUBLE,            -- complained_callees / callees
    run_id                  VARCHAR NOT NULL
);

-- Complaints per carrier and national prefix (3 and 5 digits) in the feature window against the
-- trailing baseline (hotspot_baseline_days before the window), scaled to the window's length.
CREATE TABLE IF NOT EXISTS prefix_hotspots (
    run_date            DATE NOT NULL,
    carrier             VARCHAR NOT NULL,
    prefix_len          INTEGER NOT NULL,      -- 3 | 5
    prefix              VARCHAR NOT NULL,      -- national form, e.g. 086 / 08612
    reports             BIGINT NOT NULL,       -- complaints in the window
    distinct_numbers    BIGINT NOT NULL,       -- distinct reported numbers in the window
    distinct_reporters  BIGINT NOT NULL,
    baseline_reports    BIGINT NOT NULL,       -- complaints in the baseline period
    expected_reports    DOUBLE NOT NULL,       -- baseline_reports * window_days / baseline_days
    ratio               DOUBLE,                -- reports / expected_reports (NULL when the baseline is empty)
    watched             BOOLEAN NOT NULL,      -- listed in carriers.toml watched_prefixes (3-digit ranges)
    is_hotspot          BOOLEAN NOT NULL,      -- reports >= min_reports and (ratio >= min_ratio or no baseline)
    run_id              VARCHAR NOT NULL
);

CREATE OR REPLACE VIEW v_prefix_hotspots AS
SELECT run_date, carrier, prefix_len, prefix, reports, distinct_numbers, distinct_reporters,
       baseline_reports, expected_reports, ratio, watched, is_hotspot, run_id
FROM prefix_hotspots;
