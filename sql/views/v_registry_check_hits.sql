-- Analyst view: every failed subscriber-information check per run date, with its legal basis and the
-- person's pseudonym (person_ref) as of that date. No names, dates of birth or ID numbers.
CREATE OR REPLACE VIEW v_registry_check_hits AS
SELECT h.run_date, h.run_id, h.carrier, r.msisdn, h.msisdn_int, r.person_ref, h.check_id, h.legal_basis, h.detail
FROM registry_check_hits h
LEFT JOIN registry_subscribers r
  ON r.carrier = h.carrier AND r.msisdn_int = h.msisdn_int
 AND r.valid_from <= h.run_date AND (r.valid_to IS NULL OR r.valid_to > h.run_date);
