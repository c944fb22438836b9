-- Analyst view: every execution with its inputs, config hash, code version, counts and outputs.
CREATE OR REPLACE VIEW v_runs AS
SELECT run_id, execution_id, flow, run_date, started_at, finished_at, status,
       config_sha256, code_version, input_sha256, len(input_sha256) AS input_files,
       stage_counts, outputs, error
FROM runs;
