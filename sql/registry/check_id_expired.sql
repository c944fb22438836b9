-- REG_ID_EXPIRED: the identity document had expired on the run date. Per document type the profile gives
-- any of: valid_years from issue; renew_at_ages (a document issued more than renew_grace_years before a
-- renewal age expires at that age); valid_until (last valid day). The earliest applicable end wins.
-- Documents without an issue date are left to REG_FIELDS_MISSING. detail names the rule, never a date.
INSERT INTO registry_check_hits
WITH subjects AS (
    SELECT r.carrier, r.msisdn_int, r.date_of_birth, r.id_issued_on, d.id_type AS doc_type,
           d.valid_years, d.renew_at_ages, d.renew_grace_years, d.valid_until
    FROM registry_on($run_date) r
    JOIN cfg_id_documents d ON d.name = r.id_type
    WHERE r.status <> 'terminated' AND r.id_issued_on IS NOT NULL
),
ends AS (
    SELECT *,
           CAST(id_issued_on + to_years(valid_years) AS DATE) AS by_years,
           CAST(date_of_birth + to_years(list_filter(renew_at_ages,
                    lambda a: id_issued_on < CAST(date_of_birth + to_years(a - renew_grace_years) AS DATE))[1]) AS DATE) AS by_age,
           valid_until + 1 AS by_date
    FROM subjects
),
expired AS (
    SELECT *,
           list_filter([
               CASE WHEN by_years <= $run_date THEN format('{} older than {} years', doc_type, valid_years) END,
               CASE WHEN by_age <= $run_date THEN format('{} past its renewal age', doc_type) END,
               CASE WHEN by_date <= $run_date THEN format('{} no longer valid after {}', doc_type, valid_until) END
           ], lambda x: x IS NOT NULL) AS why
    FROM ends
)
SELECT $run_date, $run_id, msisdn_int, carrier, $check_id, $legal_basis, array_to_string(why, '; ')
FROM expired
WHERE len(why) > 0;
