-- Every rule hit with its evidence (the values of the features the rule named), and the exclusion that
-- stopped it if any. Exclusions beat rules: an excluded hit stays here, visible, and never becomes a candidate.
CREATE TABLE IF NOT EXISTS rule_hits (
    run_date      DATE NOT NULL,
    run_id        VARCHAR NOT NULL,
    msisdn_int    BIGINT NOT NULL,
    carrier       VARCHAR,
    rule_id       VARCHAR NOT NULL,
    action        VARCHAR NOT NULL,
    priority      INTEGER NOT NULL,
    score         DOUBLE NOT NULL,
    legal_basis   VARCHAR NOT NULL,
    evidence      JSON NOT NULL,        -- {feature: value} for every feature the rule named
    cdr_evidence  VARCHAR,              -- the CDR features among them, name=value;…
    excluded_by   VARCHAR               -- protected | allowlist | already_blocked | cleared_cooldown | NULL
);

-- One row per subscriber and run date: the strongest action of its non-excluded hits, every reason, the
-- evidence a compliance officer shows a regulator.
CREATE TABLE IF NOT EXISTS candidates (
    run_date              DATE NOT NULL,
    run_id                VARCHAR NOT NULL,
    msisdn_int            BIGINT NOT NULL,
    msisdn                VARCHAR NOT NULL,
    msisdn_national       VARCHAR NOT NULL,
    carrier               VARCHAR,
    prefix                VARCHAR,
    action                VARCHAR NOT NULL,
    action_rank           INTEGER NOT NULL,
    reasons               VARCHAR NOT NULL,
    score                 DOUBLE NOT NULL,
    distinct_reporters    BIGINT NOT NULL,
    reports               BIGINT NOT NULL,
    corroborated_reports  BIGINT NOT NULL,
    first_reported_at     TIMESTAMPTZ,
    last_reported_at      TIMESTAMPTZ,
    calls_out             BIGINT,
    distinct_callees      BIGINT,
    short_call_share      DOUBLE,
    unanswered_share      DOUBLE,
    new_callee_share      DOUBLE,
    max_calls_burst       BIGINT,
    imei_max_subscribers  BIGINT,
    cdr_evidence          VARCHAR,      -- the CDR features the fired rules named, name=value;…
    subscriber_age_days   INTEGER,
    plan                  VARCHAR,
    kyc_verified          BOOLEAN,
    request_ids           VARCHAR,      -- authority requests demanding suspension
    legal_basis           VARCHAR NOT NULL,
    due_by                DATE
);
