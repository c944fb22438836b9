-- Feature stage, once per run: connection-local work tables the bucket models fill and read.
-- _cdr_imei_pairs collects (carrier, handset, subscriber) across buckets for the IMEI-sharing pass.
CREATE OR REPLACE TEMP TABLE _cdr_imei_pairs (carrier VARCHAR, imei BIGINT, a_number BIGINT);
CREATE OR REPLACE TEMP TABLE _cdr_hist_pairs (a_number BIGINT, b_number BIGINT);
CREATE OR REPLACE TEMP TABLE _cdr_ported (a_number BIGINT, carrier VARCHAR);
CREATE OR REPLACE TEMP TABLE _cdr_in (b_number BIGINT, calls_in BIGINT, sms_in BIGINT);
