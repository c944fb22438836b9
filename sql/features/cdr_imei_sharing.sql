-- After every bucket: handsets used by more than one subscriber of the same carrier in the window (SIM
-- farms, SIM-swapping rings); each subscriber gets the largest such count among its handsets.
-- Parameter: run_date.
UPDATE cdr_subscriber_features AS f
SET imei_max_subscribers = s.max_subscribers
FROM (
    SELECT p.carrier, p.a_number, max(shared.subscribers) AS max_subscribers
    FROM _cdr_imei_pairs p
    JOIN (
        SELECT carrier, imei, count(*) AS subscribers
        FROM _cdr_imei_pairs
        GROUP BY carrier, imei
        HAVING count(*) > 1
    ) shared ON shared.carrier = p.carrier AND shared.imei = p.imei
    GROUP BY p.carrier, p.a_number
) s
WHERE f.run_date = $run_date AND f.carrier = s.carrier AND f.msisdn_int = s.a_number;
