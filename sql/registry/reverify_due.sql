-- Where each subscriber flagged on the run date stands on the active profile's ladder (cfg_ladder:
-- step_no, action, offset_days from the first flag, legal_basis). due_by is the date of the first step
-- not yet reached; once every step is reached it stays the final step's date and overdue is true.
-- The first flag is reverify_flags.first_flagged_on; when a past date is re-run after a later episode
-- began, that date's own episode start is derived from the hits history (the first flagged check run
-- after the last check run that found the subscriber clean).
INSERT INTO reverify_due
WITH flagged AS (
    SELECT carrier, msisdn_int, string_agg(DISTINCT check_id, ';' ORDER BY check_id) AS check_ids
    FROM registry_check_hits
    WHERE run_date = $run_date
    GROUP BY carrier, msisdn_int
),
started AS (
    SELECT f.*,
           CASE WHEN r.first_flagged_on <= $run_date THEN r.first_flagged_on
                ELSE (SELECT min(k.run_date) FROM registry_check_runs k
                      WHERE k.run_date <= $run_date
                        AND k.run_date > coalesce((
                            SELECT max(c.run_date) FROM registry_check_runs c
                            WHERE c.run_date < $run_date
                              AND NOT EXISTS (SELECT 1 FROM registry_check_hits h
                                              WHERE h.run_date = c.run_date AND h.carrier = f.carrier
                                                AND h.msisdn_int = f.msisdn_int)), DATE '0001-01-01'))
           END AS first_flagged_on
    FROM flagged f
    JOIN reverify_flags r USING (carrier, msisdn_int)
),
placed AS (
    SELECT s.*,
           (SELECT count(*) FROM cfg_ladder l WHERE s.first_flagged_on + l.offset_days <= $run_date) AS reached,
           (SELECT max(step_no) FROM cfg_ladder) AS steps
    FROM started s
)
SELECT $run_date, $run_id, p.carrier, p.msisdn_int, $profile, p.check_ids, p.first_flagged_on,
       cur.action AS current_step,
       nxt.action AS next_step,
       p.first_flagged_on + nxt.offset_days AS due_by,
       p.reached >= p.steps AS overdue,
       nxt.legal_basis
FROM placed p
LEFT JOIN cfg_ladder cur ON cur.step_no = p.reached
JOIN cfg_ladder nxt ON nxt.step_no = least(p.reached + 1, p.steps);
