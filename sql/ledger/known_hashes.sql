-- Files already landed successfully: re-delivering one of them is a no-op.
SELECT sha256 FROM ingest_log WHERE status = 'loaded';
