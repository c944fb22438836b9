-- Land one file's accepted complaints (registered by the caller as incoming_complaints). A complaint
-- already staged with the same content (a re-delivery) is not added again; the caller counts those.
INSERT INTO stg_complaints BY NAME
SELECT * FROM (
    SELECT complaint_id, channel, received_at, occurred_at,
           reporter_raw, reporter_e164, reporter_e164_int, reporter_carrier,
           reported_raw, reported_e164, reported_e164_int, reported_national, CAST(reported_kind AS VARCHAR) AS reported_kind,
           reported_prefix3, reported_prefix5, reported_carrier, reported_legacy, reported_protected,
           kind, category, content, source_file, source_line,
           complaint_fingerprint(complaint_id, channel, received_at, occurred_at, reporter_raw, reported_raw, category, content) AS row_sha256,
           $sha256 AS source_sha256, $run_id AS run_id
    FROM incoming_complaints
) c
WHERE c.row_sha256 NOT IN (SELECT row_sha256 FROM stg_complaints);
