-- Analyst view: the subscriber registry as in each carrier's latest snapshot, WITHOUT personal data.
-- A person is person_ref, an HMAC-SHA-256 of the normalised ID number under the carrier's secret key: it
-- lets analysts count numbers per person (numbers_on_document = that person's numbers on this network)
-- but cannot be reversed. has_* columns say whether a personal field is present, not what it is.
-- Activation is shown as a month and a line age, not a full date: a bare calendar date here could equal
-- some subscriber's date of birth, and the privacy audit searches the bytes for those.
-- History: subscriber_status_on(DATE '…') and v_subscriber_status_history. Real values: pkg_subscribers.
CREATE OR REPLACE VIEW v_subscribers_pseudo AS
SELECT r.carrier, r.msisdn, r.msisdn_national, r.msisdn_int, r.prefix_carrier,
       r.subscriber_id, strftime(r.activated_on, '%Y-%m') AS activated_month,
       CAST(s.snapshot_date - r.activated_on AS INTEGER) AS line_age_days, r.plan, r.status, r.registration_point, r.kyc_verified,
       r.id_type, r.person_ref,
       CASE WHEN r.person_ref IS NOT NULL
            THEN count(*) OVER (PARTITION BY r.carrier, r.person_ref) END     AS numbers_on_document,
       r.full_name IS NOT NULL                                                AS has_full_name,
       r.date_of_birth IS NOT NULL                                            AS has_date_of_birth,
       r.id_number IS NOT NULL                                                AS has_id_number,
       r.id_issued_on IS NOT NULL                                             AS has_id_issued_on,
       r.id_issued_place IS NOT NULL                                          AS has_id_issued_place,
       r.photo_ref IS NOT NULL                                                AS has_photo_ref,
       r.guardian_flag,
       r.malformed_fields,
       r.valid_from                                                           AS unchanged_since,
       s.snapshot_date                                                        AS latest_snapshot
FROM registry_subscribers r
JOIN (SELECT carrier, max(snapshot_date) AS snapshot_date FROM registry_snapshots GROUP BY carrier) s USING (carrier)
WHERE r.valid_to IS NULL;
