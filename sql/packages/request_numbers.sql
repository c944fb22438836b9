-- Who holds each number a request names, as of run date $as_of (one row per distinct number):
--   current_carrier: the portability model (latest port on or before $as_of, else the prefix's carrier);
--   holder: that carrier, when its registry lists the number at some point from the request period's
--           start ($period_from) through $as_of — a well-formed number nobody handed out has a prefix
--           carrier but no registry row, so it is "not found", not quietly attributed to the prefix.
-- number: E.164 when the number normalises, else the text as the authority wrote it.
WITH named AS (
    SELECT coalesce(e164, number_raw) AS number,
           min(number_raw) AS number_raw, any_value(e164_int) AS e164_int, any_value(national) AS national,
           any_value(kind) AS kind, any_value(prefix_carrier) AS prefix_carrier
    FROM stg_request_numbers
    WHERE request_id = $request_id AND source_sha256 = $source_sha256
    GROUP BY ALL
),
placed AS (
    SELECT n.*, CASE WHEN n.e164_int IS NOT NULL THEN coalesce(p.carrier, n.prefix_carrier) END AS current_carrier
    FROM named n
    LEFT JOIN current_carrier_on($as_of) p ON p.e164_int = n.e164_int
),
listed AS (
    SELECT DISTINCT s.carrier, s.msisdn_int
    FROM registry_subscribers s
    JOIN placed p ON p.e164_int = s.msisdn_int AND p.current_carrier = s.carrier
    WHERE s.valid_from <= $as_of AND (s.valid_to IS NULL OR s.valid_to > $period_from)
)
SELECT p.number, p.number_raw, p.e164_int, p.national, p.kind, p.prefix_carrier, p.current_carrier,
       l.carrier AS holder
FROM placed p
LEFT JOIN listed l ON l.msisdn_int = p.e164_int AND l.carrier = p.current_carrier
ORDER BY p.number;
