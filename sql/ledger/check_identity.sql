-- Every row read is either accepted, rejected (or, for CDRs, a dropped duplicate); any other count is a bug.
-- A file that failed landed nothing: its counts are all 0 and it has no rejects (never half-landed).
SELECT source_file, sha256, status, rows_read, rows_accepted, rows_rejected, rows_duplicate,
       (SELECT count(*) FROM rejects r WHERE r.sha256 = l.sha256) AS rejects_recorded
FROM ingest_log l
WHERE (status = 'loaded'
       AND (rows_read <> rows_accepted + rows_rejected + rows_duplicate
            OR rows_rejected <> (SELECT count(*) FROM rejects r WHERE r.sha256 = l.sha256)))
   OR (status <> 'loaded'
       AND (rows_read <> 0 OR rows_accepted <> 0 OR rows_rejected <> 0 OR rows_duplicate <> 0
            OR EXISTS (SELECT 1 FROM rejects r WHERE r.sha256 = l.sha256)));
