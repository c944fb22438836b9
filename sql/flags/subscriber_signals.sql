-- Everything a rule may name, per subscriber, for the run date: complaint features, CDR features,
-- registry facts on the day, authority suspension requests and the last decision. A temporary table
-- (per connection): the rules read it, the hits keep the evidence they used.
-- Carrier = the CURRENT carrier (ported carrier on the run date, else the features' carrier).
CREATE OR REPLACE TEMP TABLE signals_today AS
WITH suspend AS (
    SELECT n.e164_int AS msisdn_int,
           string_agg(DISTINCT r.request_id, ';' ORDER BY r.request_id) AS request_ids,
           string_agg(DISTINCT r.legal_basis, '; ' ORDER BY r.legal_basis) AS request_basis,
           min(n.prefix_carrier) AS prefix_carrier
    FROM stg_requests r
    JOIN stg_request_numbers n ON n.request_id = r.request_id AND n.source_sha256 = r.source_sha256
    WHERE r.requested_action = 'suspend' AND n.kind = 'mobile' AND n.e164_int IS NOT NULL
      AND CAST(timezone($tz, r.received_at) AS DATE) <= $run_date
    GROUP BY ALL
),
decided AS (
    SELECT msisdn_int, decision AS last_decision, decided_at AS last_decided_at
    FROM stg_decisions
    WHERE CAST(timezone($tz, decided_at) AS DATE) <= $run_date
    QUALIFY row_number() OVER (PARTITION BY msisdn_int ORDER BY decided_at DESC, decision) = 1
),
population AS (
    SELECT msisdn_int FROM complaint_subscriber_features WHERE run_date = $run_date
    UNION SELECT msisdn_int FROM cdr_subscriber_features WHERE run_date = $run_date
    UNION SELECT msisdn_int FROM suspend
    UNION SELECT msisdn_int FROM registry_check_hits WHERE run_date = $run_date
),
registry AS (
    SELECT r.carrier, r.msisdn_int, r.activated_on, r.plan, r.status, r.kyc_verified, r.person_ref,
           CASE WHEN r.person_ref IS NOT NULL
                THEN count(*) OVER (PARTITION BY r.carrier, r.person_ref) END AS numbers_per_id
    FROM registry_on($run_date) r
),
checks AS (
    SELECT msisdn_int, min(carrier) AS carrier, count(DISTINCT check_id) AS registry_checks_failed
    FROM registry_check_hits WHERE run_date = $run_date GROUP BY msisdn_int
),
new_reporters AS (
    -- reporters heard from after the last decision who had not complained about the number before it
    SELECT c.reported_e164_int AS msisdn_int, count(DISTINCT c.reporter_e164_int) AS new_reporters_since_decision
    FROM stg_complaints c JOIN decided d ON d.msisdn_int = c.reported_e164_int
    WHERE c.received_at > d.last_decided_at
      AND CAST(timezone($tz, c.received_at) AS DATE) <= $run_date
      AND c.reporter_e164_int NOT IN (
          SELECT p.reporter_e164_int FROM stg_complaints p
          WHERE p.reported_e164_int = c.reported_e164_int AND p.received_at <= d.last_decided_at
            AND p.reporter_e164_int IS NOT NULL)
    GROUP BY ALL
)
SELECT
    p.msisdn_int,
    '+' || CAST(p.msisdn_int AS VARCHAR)                                  AS msisdn,
    '0' || substr(CAST(p.msisdn_int AS VARCHAR), 3)                       AS msisdn_national,
    coalesce(pc.carrier, f.carrier, cf.carrier, k.carrier, s.prefix_carrier) AS carrier,
    '0' || substr(CAST(p.msisdn_int AS VARCHAR), 3, 2)                    AS prefix,
    coalesce(cf.reports, 0)                  AS reports,
    coalesce(cf.distinct_reporters, 0)       AS distinct_reporters,
    coalesce(cf.corroborated_reports, 0)     AS corroborated_reports,
    coalesce(cf.uncorroborated_reports, 0)   AS uncorroborated_reports,
    coalesce(cf.spoofing_signals, 0)         AS spoofing_signals,
    coalesce(cf.reports_call, 0)             AS reports_call,
    coalesce(cf.reports_sms, 0)              AS reports_sms,
    coalesce(cf.reports_impersonation, 0) + coalesce(cf.reports_fraud, 0) AS reports_fraud_or_impersonation,
    cf.callee_complaint_share,
    cf.first_reported_at,
    cf.last_reported_at,
    coalesce(f.calls_out, 0)                 AS calls_out,
    coalesce(f.sms_out, 0)                   AS sms_out,
    coalesce(f.distinct_callees, 0)          AS distinct_callees,
    f.short_call_share,
    f.unanswered_share,
    f.night_share,
    coalesce(f.max_calls_burst, 0)           AS max_calls_burst,
    f.short_gap_share,
    f.new_callee_share,
    coalesce(f.calls_in, 0)                  AS calls_in,
    f.in_out_ratio,
    coalesce(f.distinct_cells, 0)            AS distinct_cells,
    coalesce(f.distinct_imeis, 0)            AS distinct_imeis,
    coalesce(f.imei_changed, false)          AS imei_changed,
    coalesce(f.imei_max_subscribers, 0)      AS imei_max_subscribers,
    CAST($run_date - r.activated_on AS INTEGER) AS subscriber_age_days,
    r.plan,
    coalesce(r.plan = 'prepaid', false)      AS prepaid,
    r.kyc_verified,
    r.status                                 AS registry_status,
    coalesce(r.numbers_per_id, 0)            AS numbers_per_id,
    coalesce(k.registry_checks_failed, 0)    AS registry_checks_failed,
    s.msisdn_int IS NOT NULL                 AS suspend_requested,
    s.request_ids,
    s.request_basis,
    d.last_decision,
    d.last_decided_at,
    coalesce(d.last_decision = 'cleared'
             AND $run_date - CAST(timezone($tz, d.last_decided_at) AS DATE) < $cooldown_days, false) AS cleared_in_cooldown,
    coalesce(nr.new_reporters_since_decision, 0) AS new_reporters_since_decision
FROM population p
LEFT JOIN complaint_subscriber_features cf ON cf.msisdn_int = p.msisdn_int AND cf.run_date = $run_date
LEFT JOIN current_carrier_on($run_date) pc ON pc.e164_int = p.msisdn_int
LEFT JOIN cdr_subscriber_features f
       ON f.msisdn_int = p.msisdn_int AND f.run_date = $run_date
      AND f.carrier = coalesce(pc.carrier, f.carrier)
LEFT JOIN registry r ON r.msisdn_int = p.msisdn_int AND r.carrier = coalesce(pc.carrier, f.carrier, cf.carrier)
LEFT JOIN checks k ON k.msisdn_int = p.msisdn_int
LEFT JOIN suspend s ON s.msisdn_int = p.msisdn_int
LEFT JOIN decided d ON d.msisdn_int = p.msisdn_int
LEFT JOIN new_reporters nr ON nr.msisdn_int = p.msisdn_int;
