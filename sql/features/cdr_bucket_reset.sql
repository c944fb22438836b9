-- Per (carrier, bucket) pass: empty the per-bucket work tables.
DELETE FROM _cdr_hist_pairs;
DELETE FROM _cdr_ported;
DELETE FROM _cdr_in;
