-- REG_FIELDS_MISSING: a field the active profile requires is missing, or present but malformed
-- (an unreadable date; an ID type the profile does not know; an ID number not in its type's format).
-- Subjects: every number in the registry as of the run date except terminated ones.
-- Registered by the caller: cfg_id_documents (name → id_type) from the profile. $id_number_pattern is
-- one regular expression over '<id_type>:<id number>' built from the profile's per-type patterns, so it
-- is compiled once rather than per row.
INSERT INTO registry_check_hits
WITH subjects AS (
    SELECT r.*, d.id_type AS doc_type
    FROM registry_on($run_date) r
    LEFT JOIN cfg_id_documents d ON d.name = r.id_type
    WHERE r.status <> 'terminated'
),
problems AS (
    SELECT carrier, msisdn_int,
           [
               CASE WHEN full_name IS NULL OR trim(full_name) = '' THEN 'full_name missing' END,
               CASE WHEN list_contains(malformed_fields, 'date_of_birth') THEN 'date_of_birth malformed'
                    WHEN date_of_birth IS NULL THEN 'date_of_birth missing' END,
               CASE WHEN id_type IS NULL THEN 'id_type missing'
                    WHEN doc_type IS NULL THEN 'id_type malformed' END,
               CASE WHEN id_key(id_number) IS NULL THEN 'id_number missing'
                    WHEN doc_type IS NOT NULL AND NOT regexp_full_match(doc_type || ':' || id_key(id_number), $id_number_pattern)
                    THEN 'id_number malformed' END,
               CASE WHEN list_contains(malformed_fields, 'id_issued_on') THEN 'id_issued_on malformed'
                    WHEN id_issued_on IS NULL THEN 'id_issued_on missing' END,
               CASE WHEN id_issued_place IS NULL OR trim(id_issued_place) = '' THEN 'id_issued_place missing' END,
               CASE WHEN photo_ref IS NULL OR trim(photo_ref) = '' THEN 'photo_ref missing' END
           ] AS found
    FROM subjects
),
required AS (
    SELECT carrier, msisdn_int,
           list_filter(found, lambda p: p IS NOT NULL AND list_contains($required_fields, split_part(p, ' ', 1))) AS failing
    FROM problems
)
SELECT $run_date, $run_id, msisdn_int, carrier, $check_id, $legal_basis, array_to_string(failing, '; ')
FROM required
WHERE len(failing) > 0;
