-- Written requests from authorities (requests/*.json), one row per request file accepted.
CREATE TABLE IF NOT EXISTS stg_requests (
    request_id        VARCHAR NOT NULL,
    request_slug      VARCHAR NOT NULL,
    authority         VARCHAR NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL,
    due_at            TIMESTAMPTZ,
    legal_basis       VARCHAR NOT NULL,
    requested_action  VARCHAR NOT NULL,      -- information | suspend
    fields            VARCHAR[] NOT NULL,
    period_from       DATE,
    period_to         DATE,
    raw_json          VARCHAR NOT NULL,
    source_file       VARCHAR NOT NULL,
    source_sha256     VARCHAR NOT NULL,
    run_id            VARCHAR NOT NULL
);

-- The numbers a request names, normalised (a request may span several carriers).
CREATE TABLE IF NOT EXISTS stg_request_numbers (
    request_id        VARCHAR NOT NULL,
    source_sha256     VARCHAR NOT NULL,
    number_raw        VARCHAR NOT NULL,
    e164              VARCHAR,
    e164_int          BIGINT,
    national          VARCHAR,
    kind              VARCHAR NOT NULL,
    prefix_carrier    VARCHAR
);
