-- Rejected rows of one file (registered by the caller as incoming_rejects).
INSERT INTO rejects (sha256, source_file, source_line, raw, reason, detail, run_id)
SELECT $sha256, source_file, source_line, raw, reason, detail, $run_id FROM incoming_rejects;
