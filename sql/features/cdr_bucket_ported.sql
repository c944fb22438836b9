-- Per pass, only when v_current_carrier exists: current carriers of this bucket's numbers, so a number
-- ported into the carrier counts as its subscriber and one ported away does not.
-- Parameters: $buckets, $bucket.
INSERT INTO _cdr_ported
SELECT e164_int, carrier FROM v_current_carrier WHERE e164_int % $buckets = $bucket;
