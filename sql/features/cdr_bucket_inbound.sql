-- Per pass: inbound events per callee from the callee-bucketed projection (same bucket number, so
-- exactly this bucket's subscribers). Parameter: inbound_files.
INSERT INTO _cdr_in
SELECT b_number, count_if(event_type = 'voice'), count_if(event_type = 'sms')
FROM read_parquet($inbound_files)
GROUP BY b_number;
