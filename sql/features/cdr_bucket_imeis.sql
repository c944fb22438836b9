-- Per (carrier, bucket) pass: the handsets (IMEI) each own subscriber used for outgoing events; kept in
-- _cdr_imei_pairs across buckets for the IMEI-sharing pass. Parameters: $files, $carrier.
CREATE OR REPLACE TEMP TABLE _cdr_imei_bucket AS
SELECT DISTINCT o.imei, o.a_number
FROM read_parquet($files) o
LEFT JOIN _cdr_ported p ON p.a_number = o.a_number
WHERE o.imei IS NOT NULL AND coalesce(p.carrier, o.a_carrier) = $carrier;

INSERT INTO _cdr_imei_pairs SELECT $carrier, imei, a_number FROM _cdr_imei_bucket;
