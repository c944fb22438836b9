-- Analyst view: every ported number with the carrier that holds it after its latest recorded port
-- (current_carrier_on over all port records). A number not listed here is with its prefix's carrier.
-- For a given day use the macro instead: SELECT * FROM current_carrier_on(DATE '2024-03-05').
CREATE OR REPLACE VIEW v_current_carrier AS
SELECT p.e164_int, s.msisdn, s.msisdn_national, s.prefix_carrier AS original_carrier, p.carrier, p.ported_on
FROM current_carrier_on(DATE '9999-12-31') p
JOIN (SELECT DISTINCT msisdn_int, msisdn, msisdn_national, prefix_carrier FROM stg_ported) s
  ON s.msisdn_int = p.e164_int;
