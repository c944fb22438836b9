-- Analyst views of lineage. A run is identified by its run_id, which is derived from the run date, the
-- input files' hashes and the effective config's hash: re-running the same inputs under the same config
-- is the SAME run executed again. So v_runs has one row per run (run_id, flow) and a re-run changes only
-- that row (its executions, latest timestamps, counts); v_run_executions keeps every execution.
-- v_runs.outputs is every file any execution of the run wrote (path -> SHA-256, the latest execution's
-- hash when several wrote it): a re-run that skips an output already written (a package) still lists it.

CREATE OR REPLACE VIEW v_run_executions AS
SELECT run_id, execution_id, flow, run_date, started_at, finished_at, status,
       config_sha256, code_version, input_sha256, len(input_sha256) AS input_files,
       stage_counts, outputs, error
FROM runs;

CREATE OR REPLACE VIEW v_runs AS
WITH written AS (
    SELECT run_id, flow, o.key AS path, arg_max(o.value ->> '$', started_at) AS sha256
    FROM runs, json_each(outputs) o
    GROUP BY ALL
),
output_files AS (
    SELECT run_id, flow, to_json(map_from_entries(list((path, sha256) ORDER BY path))) AS outputs
    FROM written
    GROUP BY ALL
),
per_run AS (
    SELECT run_id, flow,
           max_by(run_date, started_at)       AS run_date,
           max_by(status, started_at)         AS status,
           count(*)                           AS executions,
           min(started_at)                    AS first_started_at,
           max(started_at)                    AS started_at,
           max_by(finished_at, started_at)    AS finished_at,
           max_by(config_sha256, started_at)  AS config_sha256,
           max_by(code_version, started_at)   AS code_version,
           max_by(input_sha256, started_at)   AS input_sha256,
           max_by(stage_counts, started_at)   AS stage_counts,
           max_by(error, started_at)          AS error,
           list({'execution_id': execution_id, 'started_at': started_at, 'finished_at': finished_at,
                 'status': status} ORDER BY started_at, execution_id) AS execution_history
    FROM runs
    GROUP BY run_id, flow
)
SELECT r.run_id, r.flow, r.run_date, r.status, r.executions, r.first_started_at, r.started_at, r.finished_at,
       r.config_sha256, r.code_version, r.input_sha256, len(r.input_sha256) AS input_files,
       (SELECT list({'sha256': l.sha256, 'source_kind': l.source_kind, 'carrier': l.carrier,
                     'source_file': l.source_file} ORDER BY l.source_kind, l.carrier, l.source_file, l.sha256)
        FROM ingest_log l WHERE list_contains(r.input_sha256, l.sha256)) AS inputs,
       r.stage_counts, o.outputs, r.error, r.execution_history
FROM per_run r
LEFT JOIN output_files o USING (run_id, flow);
