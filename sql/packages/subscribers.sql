-- subscribers.csv: the Decree 49/2017 subscriber information the carrier's registry held for the numbers
-- in pkg_numbers (a frame the packaging step registers) during the request period, as of $as_of.
-- One row per registry version overlapping [$period_from, $period_to] (valid_to exclusive; NULL = still
-- current on $as_of). A number whose registry history starts after the period gets its earliest version,
-- so the authority still learns who holds it; valid_from says from when. photo_ref, person_ref and the
-- guardian flag are not requested information and are not read.
-- PRIVACY: reads pkg_subscribers; the caller runs this only for a request whose fields include "subscriber".
WITH versions AS (
    SELECT s.msisdn_int, s.msisdn, s.msisdn_national, s.carrier, s.valid_from,
           CASE WHEN s.valid_to <= $as_of THEN s.valid_to END AS valid_to,
           s.subscriber_id, s.full_name, s.date_of_birth, s.id_type, s.id_number, s.id_issued_on, s.id_issued_place,
           s.activated_on, s.plan, s.status, s.registration_point, s.kyc_verified,
           s.valid_from <= $period_to AND (s.valid_to IS NULL OR s.valid_to > $period_from) AS in_period
    FROM pkg_subscribers s
    JOIN pkg_numbers n ON n.e164_int = s.msisdn_int
    WHERE s.carrier = $carrier AND s.valid_from <= $as_of
)
SELECT msisdn, msisdn_national, carrier, valid_from, valid_to, subscriber_id,
       full_name, date_of_birth, id_type, id_number, id_issued_on, id_issued_place,
       activated_on, plan, status, registration_point, kyc_verified
FROM versions
QUALIFY in_period
     OR (NOT bool_or(in_period) OVER (PARTITION BY msisdn_int)
         AND row_number() OVER (PARTITION BY msisdn_int ORDER BY valid_from) = 1)
ORDER BY msisdn, valid_from;
