-- Analyst view: conflicts about who holds a number, reported rather than silently resolved.
--   kind 'registry_overlap': on a day when both carriers delivered a snapshot, both registries list the
--        number (carriers = the registries listing it; expected_carrier = current carrier by ports/prefix).
--   kind 'port_same_instant': two port records move the number at the same instant to different carriers.
CREATE OR REPLACE VIEW v_registry_conflicts AS
WITH shared AS (
    SELECT msisdn_int FROM registry_subscribers GROUP BY msisdn_int HAVING count(DISTINCT carrier) > 1
),
listed AS (
    SELECT r.carrier, r.msisdn_int, r.msisdn, r.prefix_carrier, s.snapshot_date AS day
    FROM registry_subscribers r
    JOIN shared USING (msisdn_int)
    JOIN registry_snapshots s
      ON s.carrier = r.carrier AND s.snapshot_date >= r.valid_from AND (r.valid_to IS NULL OR s.snapshot_date < r.valid_to)
),
overlapping AS (
    SELECT day, msisdn_int, any_value(msisdn) AS msisdn, any_value(prefix_carrier) AS prefix_carrier,
           list_sort(list(DISTINCT carrier)) AS carriers
    FROM listed
    GROUP BY day, msisdn_int
    HAVING count(DISTINCT carrier) > 1
),
ports AS (
    SELECT ported_on AS day, msisdn_int, any_value(msisdn) AS msisdn, any_value(prefix_carrier) AS prefix_carrier,
           list_sort(list(DISTINCT carrier)) AS carriers
    FROM stg_ported
    GROUP BY ported_on, ported_at, msisdn_int
    HAVING count(DISTINCT carrier) > 1
)
SELECT 'registry_overlap' AS kind, o.day, o.msisdn, o.msisdn_int, o.carriers,
       coalesce((SELECT c.carrier FROM stg_ported c WHERE c.msisdn_int = o.msisdn_int AND c.ported_on <= o.day
                 ORDER BY c.ported_at DESC, c.carrier LIMIT 1), o.prefix_carrier) AS expected_carrier
FROM overlapping o
UNION ALL
SELECT 'port_same_instant', day, msisdn, msisdn_int, carriers, NULL
FROM ports;
