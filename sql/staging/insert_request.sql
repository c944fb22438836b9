-- Land one accepted authority request and its normalised numbers (incoming_request, incoming_request_numbers).
INSERT INTO stg_requests BY NAME
SELECT request_id, request_slug, authority, received_at, due_at, legal_basis, requested_action, fields,
       period_from, period_to, raw_json, source_file, $sha256 AS source_sha256, $run_id AS run_id
FROM incoming_request;

INSERT INTO stg_request_numbers BY NAME
SELECT request_id, $sha256 AS source_sha256, number_raw, e164, e164_int, national, CAST(kind AS VARCHAR) AS kind,
       prefix_carrier
FROM incoming_request_numbers;
