-- Land one file's Do-Not-Call registrations (registered by the caller as incoming_dnc).
INSERT INTO stg_dnc BY NAME
SELECT received_at, reporter_raw, reporter_e164, action, detail, source_file, source_line,
       $sha256 AS source_sha256, $run_id AS run_id
FROM incoming_dnc;
