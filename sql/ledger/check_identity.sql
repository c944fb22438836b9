-- Every row read is either accepted, rejected (or, for CDRs, a dropped duplicate); any other count is a bug.
SELECT source_file, sha256, rows_read, rows_accepted, rows_rejected, rows_duplicate,
       (SELECT count(*) FROM rejects r WHERE r.sha256 = l.sha256) AS rejects_recorded
FROM ingest_log l
WHERE status = 'loaded'
  AND (rows_read <> rows_accepted + rows_rejected + rows_duplicate
       OR rows_rejected <> (SELECT count(*) FROM rejects r WHERE r.sha256 = l.sha256));
