-- Per pass, when current_carrier_on exists: the carrier on the run date of this bucket's ported numbers,
-- so a number ported into the carrier counts as its subscriber and one ported away does not.
-- Parameters: run_date, buckets, bucket.
INSERT INTO _cdr_ported
SELECT e164_int, carrier FROM current_carrier_on($run_date) WHERE e164_int % $buckets = $bucket;
