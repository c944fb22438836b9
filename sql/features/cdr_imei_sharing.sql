-- After every bucket: handsets used by more than one subscriber of the same carrier in the window (SIM
-- farms, SIM-swapping rings); each subscriber gets the largest such count among its handsets.
-- Parameter: run_date.
UPDATE cdr_subscriber_features AS f
SET imei_max_subscribers = s.max_subscribers
FROM (
    WITH pairs AS (
        SELECT carrier, msisdn_int, unnest(imeis) AS imei
        FROM cdr_subscriber_features
        WHERE run_date = $run_date AND len(imeis) > 0
    ),
    shared AS (
        SELECT carrier, imei, count(*) AS subscribers
        FROM pairs
        GROUP BY carrier, imei
        HAVING count(*) > 1
    )
    SELECT p.carrier, p.msisdn_int, max(shared.subscribers) AS max_subscribers
    FROM pairs p
    JOIN shared ON shared.carrier = p.carrier AND shared.imei = p.imei
    GROUP BY p.carrier, p.msisdn_int
) s
WHERE f.run_date = $run_date AND f.carrier = s.carrier AND f.msisdn_int = s.msisdn_int;
