-- Feature stage, before the bucket loop: a re-run of a date replaces that date's subscriber features.
DELETE FROM cdr_subscriber_features WHERE run_date = $run_date;
