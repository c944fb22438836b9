-- Apply one carrier's full snapshot (registered by the caller as incoming_subscribers) to the versioned
-- registry: record status transitions against the carrier's open versions, close the versions that
-- changed or left, open versions for new or changed records. An unchanged subscriber costs nothing.
-- incoming_held: numbers whose rows were rejected this time; their previous record stays as it was (a bad
-- row is no evidence that the number left the registry).
-- person_ref = HMAC-SHA-256(key, id_key(id_number)) from the padded key blocks $hmac_ipad/$hmac_opad.
CREATE OR REPLACE TEMP TABLE registry_incoming AS
SELECT i.*,
       CASE WHEN id_key(i.id_number) IS NOT NULL
            THEN sha256($hmac_opad || unhex(sha256($hmac_ipad || encode(id_key(i.id_number))))) END AS person_ref
FROM incoming_subscribers i;

INSERT INTO registry_status_changes
WITH open_versions AS (
    SELECT msisdn_int, msisdn, status FROM registry_subscribers WHERE carrier = $carrier AND valid_to IS NULL
),
previous AS (
    SELECT max(snapshot_date) AS d FROM registry_snapshots WHERE carrier = $carrier AND snapshot_date < $snapshot_date
)
SELECT $carrier, coalesce(n.msisdn_int, o.msisdn_int), coalesce(n.msisdn, o.msisdn), $snapshot_date,
       previous.d, o.status, n.status, $sha256, $run_id
FROM open_versions o
FULL OUTER JOIN registry_incoming n ON n.msisdn_int = o.msisdn_int
CROSS JOIN previous
WHERE previous.d IS NOT NULL AND o.status IS DISTINCT FROM n.status
  AND NOT EXISTS (SELECT 1 FROM incoming_held h WHERE h.msisdn_int = o.msisdn_int);

UPDATE registry_subscribers o SET valid_to = $snapshot_date
WHERE o.carrier = $carrier AND o.valid_to IS NULL
  AND NOT EXISTS (SELECT 1 FROM incoming_held h WHERE h.msisdn_int = o.msisdn_int)
  AND NOT EXISTS (
    SELECT 1 FROM registry_incoming n
    WHERE n.msisdn_int = o.msisdn_int
      AND n.subscriber_id IS NOT DISTINCT FROM o.subscriber_id
      AND n.activated_on IS NOT DISTINCT FROM o.activated_on
      AND n.plan IS NOT DISTINCT FROM o.plan
      AND n.status IS NOT DISTINCT FROM o.status
      AND n.full_name IS NOT DISTINCT FROM o.full_name
      AND n.date_of_birth IS NOT DISTINCT FROM o.date_of_birth
      AND n.id_type IS NOT DISTINCT FROM o.id_type
      AND n.id_number IS NOT DISTINCT FROM o.id_number
      AND n.id_issued_on IS NOT DISTINCT FROM o.id_issued_on
      AND n.id_issued_place IS NOT DISTINCT FROM o.id_issued_place
      AND n.photo_ref IS NOT DISTINCT FROM o.photo_ref
      AND n.registration_point IS NOT DISTINCT FROM o.registration_point
      AND n.kyc_verified IS NOT DISTINCT FROM o.kyc_verified
      AND n.guardian_flag IS NOT DISTINCT FROM o.guardian_flag
      AND n.malformed_fields IS NOT DISTINCT FROM o.malformed_fields
  );

INSERT INTO registry_subscribers BY NAME
SELECT $carrier AS carrier, n.msisdn_int, n.msisdn, n.msisdn_national, n.prefix_carrier,
       $snapshot_date AS valid_from, NULL AS valid_to,
       n.subscriber_id, n.activated_on, n.plan, n.status, n.full_name, n.date_of_birth, n.id_type, n.id_number,
       n.id_issued_on, n.id_issued_place, n.photo_ref, n.registration_point, n.kyc_verified, n.guardian_flag,
       n.malformed_fields, n.person_ref, n.source_file, $sha256 AS source_sha256, n.source_line, $run_id AS run_id
FROM registry_incoming n
WHERE NOT EXISTS (
    SELECT 1 FROM registry_subscribers o
    WHERE o.carrier = $carrier AND o.valid_to IS NULL AND o.msisdn_int = n.msisdn_int
);

INSERT INTO registry_snapshots (carrier, snapshot_date, source_file, source_sha256, rows_accepted, run_id)
SELECT $carrier, $snapshot_date, $source_file, $sha256, count(*), $run_id FROM registry_incoming;

DROP TABLE registry_incoming;
