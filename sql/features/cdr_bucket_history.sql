-- Per pass, when the lake has history days: every (caller, callee) pair of the history_days before the
-- window, so "calls to numbers not contacted before" is a hash lookup. Parameter: history_files.
INSERT INTO _cdr_hist_pairs
SELECT DISTINCT a_number, b_number
FROM read_parquet($history_files)
WHERE b_number IS NOT NULL;
