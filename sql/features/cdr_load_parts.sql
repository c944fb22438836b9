-- The bucket passes' part files become run_date's rows of cdr_subscriber_features (inside the stage's
-- transaction, after features/cdr_clear_run_date). Columns are matched by name.
-- Parameters: parts (list of Parquet files, at least one).
INSERT INTO cdr_subscriber_features BY NAME
SELECT * FROM read_parquet($parts);
