-- Land one file's accepted port records (registered by the caller as incoming_ported).
INSERT INTO stg_ported BY NAME
SELECT msisdn_int, msisdn, msisdn_national, prefix_carrier, carrier, ported_at, ported_on,
       source_file, source_line, $sha256 AS source_sha256, $run_id AS run_id
FROM incoming_ported;
