-- Ingest ledger: one row per delivered file (by content hash). A re-delivered identical file is a no-op;
-- a changed file with the same name is a new delivery. rows_read = rows_accepted + rows_rejected (+ duplicates for CDRs).
-- An inbox entry with no content to hash (a directory where a file should be, an unreadable or 0-byte file, a
-- carrier folder that is a file, an unknown carrier folder) is a failed row keyed 'inbox-problem:' + SHA-256 of its
-- path relative to the inbox: one row per broken place, replaced (not added) by reruns.
-- A failed file lands nothing: rows_read = rows_accepted = rows_rejected = 0, and error names the file and what was expected.
CREATE TABLE IF NOT EXISTS ingest_log (
    sha256          VARCHAR PRIMARY KEY,   -- content SHA-256, or 'inbox-problem:<sha256 of the inbox path>'
    source_file     VARCHAR NOT NULL,
    source_kind     VARCHAR NOT NULL,      -- reports_5656 | complaints | requests | cdr | subscribers | ported | decisions
    carrier         VARCHAR,               -- for per-carrier folders
    bytes           BIGINT NOT NULL,
    rows_read       BIGINT NOT NULL,
    rows_accepted   BIGINT NOT NULL,
    rows_rejected   BIGINT NOT NULL,
    rows_duplicate  BIGINT NOT NULL DEFAULT 0,
    status          VARCHAR NOT NULL,      -- loaded | failed
    error           VARCHAR,
    run_id          VARCHAR NOT NULL,
    ingested_at     TIMESTAMPTZ NOT NULL
);

-- Every rejected input row, with the reason. Nothing read is lost.
CREATE TABLE IF NOT EXISTS rejects (
    sha256        VARCHAR NOT NULL,
    source_file   VARCHAR NOT NULL,
    source_line   BIGINT,
    raw           VARCHAR,
    reason        VARCHAR NOT NULL,
    detail        VARCHAR,
    run_id        VARCHAR NOT NULL
);
