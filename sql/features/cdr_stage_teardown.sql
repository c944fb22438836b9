-- Feature stage, after the loop: drop the work tables (they can hold millions of rows).
DROP TABLE IF EXISTS _cdr_imei_pairs;
DROP TABLE IF EXISTS _cdr_hist_pairs;
DROP TABLE IF EXISTS _cdr_ported;
DROP TABLE IF EXISTS _cdr_in;
DROP TABLE IF EXISTS _cdr_out;
DROP TABLE IF EXISTS _cdr_seq;
