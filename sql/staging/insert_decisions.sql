-- Land one file's accepted decisions (registered by the caller as incoming_decisions).
INSERT INTO stg_decisions BY NAME
SELECT msisdn_int, msisdn, decided_at, decision, case_ref, note, source_file, source_line,
       $sha256 AS source_sha256, $run_id AS run_id
FROM incoming_decisions;
