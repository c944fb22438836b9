-- REG_ID_IMPLAUSIBLE: personal data that cannot be true on the run date — date of birth in the future,
-- younger than $min_age_years without a guardian flag (when the registry has that column), older than
-- $max_age_years, or the ID document issued in the future or before the holder was born.
INSERT INTO registry_check_hits
WITH subjects AS (
    SELECT carrier, msisdn_int, date_of_birth, id_issued_on, guardian_flag
    FROM registry_on($run_date)
    WHERE status <> 'terminated' AND (date_of_birth IS NOT NULL OR id_issued_on IS NOT NULL)
),
found AS (
    SELECT carrier, msisdn_int,
           list_filter([
               CASE WHEN date_of_birth > $run_date THEN 'date of birth in the future' END,
               CASE WHEN date_of_birth <= $run_date
                         AND CAST(date_of_birth + to_years($min_age_years) AS DATE) > $run_date
                         AND NOT coalesce(guardian_flag, false)
                    THEN format('younger than {} without a guardian', $min_age_years) END,
               CASE WHEN CAST(date_of_birth + to_years($max_age_years) AS DATE) <= $run_date
                    THEN format('older than {} years', $max_age_years) END,
               CASE WHEN id_issued_on > $run_date THEN 'ID document issued in the future' END,
               CASE WHEN id_issued_on < date_of_birth THEN 'ID document issued before the date of birth' END
           ], lambda x: x IS NOT NULL) AS why
    FROM subjects
)
SELECT $run_date, $run_id, msisdn_int, carrier, $check_id, $legal_basis, array_to_string(why, '; ')
FROM found
WHERE len(why) > 0;
