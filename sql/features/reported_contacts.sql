-- Complaint joins, step 3b, per (carrier lake, bucket): every CDR event whose A-party is a reported
-- number, from the days the search needs. Any lake counts: a call between networks is in both.
-- Parameters: run_date, carrier, files.
INSERT INTO cdr_reported_contacts
SELECT $run_date, $carrier, o.a_number, o.b_number, o.start_time, o.duration_s, o.event_type, o.record_id
FROM read_parquet($files) o
SEMI JOIN _reported_numbers r ON r.a_number = o.a_number;
