-- Registry conflicts up to the run date (see v_registry_conflicts for what each kind means).
SELECT * FROM v_registry_conflicts WHERE day <= $run_date ORDER BY day, msisdn, kind;
