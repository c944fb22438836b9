-- Complaint joins, step 3a: a re-run replaces the run date's extracted contacts.
DELETE FROM cdr_reported_contacts WHERE run_date = $run_date;
