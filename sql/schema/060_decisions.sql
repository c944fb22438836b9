-- What the carrier decided about a candidate (decisions/ folder): the loop that closes a case.
CREATE TABLE IF NOT EXISTS stg_decisions (
    msisdn_int      BIGINT NOT NULL,
    msisdn          VARCHAR NOT NULL,
    decided_at      TIMESTAMPTZ NOT NULL,
    decision        VARCHAR NOT NULL,      -- one_way_blocked | two_way_blocked | cleared | restored
    case_ref        VARCHAR,
    note            VARCHAR,
    source_file     VARCHAR NOT NULL,
    source_sha256   VARCHAR NOT NULL,
    source_line     BIGINT,
    run_id          VARCHAR NOT NULL
);
