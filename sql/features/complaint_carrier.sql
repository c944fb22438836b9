-- THE one place that decides which carrier a reported number belongs to for the complaint joins:
-- its carrier on the run date (current_carrier_on, i.e. its latest port), else its original carrier by
-- prefix. Also keeps reported_carrier (the prefix's owner), which prefix hot-spots group by: a prefix is
-- a numbering range of the carrier it was allocated to. Holds the complaints the joins can need: the
-- feature window plus the hot-spot baseline before it (local days of received_at).
-- Parameters: run_date, window_days, baseline_days, tz.
CREATE OR REPLACE TEMP TABLE _complaint_carrier AS
SELECT c.*,
       coalesce(p.carrier, c.reported_carrier)      AS carrier,
       CAST(timezone($tz, c.received_at) AS DATE)   AS received_day
FROM stg_complaints c
LEFT JOIN current_carrier_on($run_date) p ON p.e164_int = c.reported_e164_int
WHERE CAST(timezone($tz, c.received_at) AS DATE)
      BETWEEN $run_date - ($window_days - 1) - $baseline_days AND $run_date;
