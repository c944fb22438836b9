-- REG_EXTRA_NUMBER_POINT: numbers on one ID document on one network are counted in activation order
-- (then by number); from number ($numbers_per_id_anywhere + 1) on, each must have been registered at one
-- of $extra_numbers_points (Decree 49/2017: the 4th and later at the carrier's own point).
-- Terminated numbers do not count.
INSERT INTO registry_check_hits
WITH subjects AS (
    SELECT carrier, msisdn_int, activated_on, registration_point, id_key(id_number) AS id_doc
    FROM registry_on($run_date)
    WHERE status <> 'terminated' AND id_key(id_number) IS NOT NULL
),
ranked AS (
    SELECT *,
           row_number() OVER (PARTITION BY carrier, id_doc ORDER BY activated_on, msisdn_int) AS nth,
           count(*) OVER (PARTITION BY carrier, id_doc) AS on_document
    FROM subjects
)
SELECT $run_date, $run_id, msisdn_int, carrier, $check_id, $legal_basis,
       format('number {} of {} on one ID document on this network, registered at {}; from number {} only at {}',
              nth, on_document, registration_point, $numbers_per_id_anywhere + 1,
              array_to_string($extra_numbers_points, ', '))
FROM ranked
WHERE nth > $numbers_per_id_anywhere AND NOT list_contains($extra_numbers_points, registration_point);
