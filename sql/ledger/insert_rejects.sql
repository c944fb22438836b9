-- Rejected rows of one file (registered by the caller as incoming_rejects). Like the file's ledger row, they
-- replace what the same content recorded before: one unchanged subscriber snapshot delivered for two days
-- lands twice under one key, and its rejects must be counted once.
DELETE FROM rejects WHERE sha256 = $sha256;
INSERT INTO rejects (sha256, source_file, source_line, raw, reason, detail, run_id)
SELECT $sha256, source_file, source_line, raw, reason, detail, $run_id FROM incoming_rejects;
