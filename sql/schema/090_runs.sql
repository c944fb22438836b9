-- One row per execution of a flow (lineage). run_id is derived from the run date, the input files'
-- hashes and the effective config's hash, so two executions over the same inputs share a run_id.
CREATE TABLE IF NOT EXISTS runs (
    execution_id    VARCHAR PRIMARY KEY,
    run_id          VARCHAR NOT NULL,
    flow            VARCHAR NOT NULL,
    run_date        DATE NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    status          VARCHAR NOT NULL,     -- running | completed | failed
    config_sha256   VARCHAR NOT NULL,
    code_version    VARCHAR NOT NULL,
    input_sha256    VARCHAR[] NOT NULL,
    stage_counts    JSON,
    outputs         JSON,
    error           VARCHAR
);
