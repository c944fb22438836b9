-- Keep, per flagged subscriber, when its current episode was FIRST flagged (across runs). Runs need not
-- come in date order (re-runs, backfills); the cases, for a subscriber flagged on the run date:
--   restart      after its last flag, and a check run in between found it clean → a new episode starts
--   extend       after its last flag, no clean run in between → same episode, last flag moves
--   extend_back  before its first flag, no check run in between → the episode started earlier
--   older        before its first flag with a check run in between → an earlier episode; the table
--                keeps the current one (reverify_due derives the older start from the hits history)
--   inside       within the episode → nothing moves
-- A re-run of the date that no longer flags a subscriber first flagged on this very date forgets it.
DELETE FROM reverify_flags f
WHERE f.first_flagged_on = $run_date AND f.last_flagged_on = $run_date
  AND NOT EXISTS (SELECT 1 FROM registry_check_hits h
                  WHERE h.run_date = $run_date AND h.carrier = f.carrier AND h.msisdn_int = f.msisdn_int);

UPDATE reverify_flags f
SET first_flagged_on = CASE WHEN c.how IN ('restart', 'extend_back') THEN $run_date ELSE f.first_flagged_on END,
    first_run_id = CASE WHEN c.how IN ('restart', 'extend_back') OR f.first_flagged_on = $run_date
                        THEN $run_id ELSE f.first_run_id END,
    last_flagged_on = CASE WHEN c.how IN ('restart', 'extend') THEN $run_date ELSE f.last_flagged_on END,
    last_run_id = CASE WHEN c.how IN ('restart', 'extend') OR f.last_flagged_on = $run_date
                       THEN $run_id ELSE f.last_run_id END
FROM (
    SELECT DISTINCT h.carrier, h.msisdn_int,
           CASE WHEN $run_date > r.last_flagged_on
                     AND EXISTS (SELECT 1 FROM registry_check_runs k
                                 WHERE k.run_date > r.last_flagged_on AND k.run_date < $run_date) THEN 'restart'
                WHEN $run_date > r.last_flagged_on THEN 'extend'
                WHEN $run_date < r.first_flagged_on
                     AND EXISTS (SELECT 1 FROM registry_check_runs k
                                 WHERE k.run_date > $run_date AND k.run_date < r.first_flagged_on) THEN 'older'
                WHEN $run_date < r.first_flagged_on THEN 'extend_back'
                ELSE 'inside' END AS how
    FROM registry_check_hits h
    JOIN reverify_flags r USING (carrier, msisdn_int)
    WHERE h.run_date = $run_date
) c
WHERE f.carrier = c.carrier AND f.msisdn_int = c.msisdn_int;

INSERT INTO reverify_flags (carrier, msisdn_int, first_flagged_on, first_run_id, last_flagged_on, last_run_id)
SELECT DISTINCT h.carrier, h.msisdn_int, $run_date, $run_id, $run_date, $run_id
FROM registry_check_hits h
WHERE h.run_date = $run_date
  AND NOT EXISTS (SELECT 1 FROM reverify_flags f WHERE f.carrier = h.carrier AND f.msisdn_int = h.msisdn_int);
