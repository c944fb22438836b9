-- Analyst view: subscribers whose information failed a check, per run date, with their place on the
-- regulation profile's ladder: first flagged, the step reached, the next step and its date (due_by)
-- and legal basis. The profile is the one in force on that run date.
CREATE OR REPLACE VIEW v_reverify AS
SELECT d.run_date, d.run_id, d.carrier, r.msisdn, d.msisdn_int, r.person_ref, d.profile, d.check_ids,
       d.first_flagged_on, d.current_step, d.next_step, d.due_by, d.overdue, d.legal_basis
FROM reverify_due d
LEFT JOIN registry_subscribers r
  ON r.carrier = d.carrier AND r.msisdn_int = d.msisdn_int
 AND r.valid_from <= d.run_date AND (r.valid_to IS NULL OR r.valid_to > d.run_date);
