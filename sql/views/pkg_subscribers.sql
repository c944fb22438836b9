-- PACKAGE BUILDING ONLY — NOT AN ANALYST VIEW. The registry with real names, dates of birth and ID numbers,
-- every version (valid_from ≤ day < valid_to; valid_to NULL = still current), so a package answering an
-- authority's request can state what the registry held in the request period. Only the packaging step,
-- for a request whose `fields` include "subscriber", may read it. Analysts use v_subscribers_pseudo.
CREATE OR REPLACE VIEW pkg_subscribers AS
SELECT carrier, msisdn_int, msisdn, msisdn_national, valid_from, valid_to,
       subscriber_id, activated_on, plan, status,
       full_name, date_of_birth, id_type, id_number, id_issued_on, id_issued_place, photo_ref,
       registration_point, kyc_verified, guardian_flag, person_ref, source_file
FROM registry_subscribers;
