-- Per subscriber and run date: every signal a rule may name (complaint counts, CDR features, registry facts).
CREATE TABLE IF NOT EXISTS subscriber_signals (
    run_date              DATE NOT NULL,
    run_id                VARCHAR NOT NULL,
    msisdn_int            BIGINT NOT NULL,
    msisdn                VARCHAR NOT NULL,
    msisdn_national       VARCHAR NOT NULL,
    carrier               VARCHAR,
    prefix                VARCHAR,
    reports               BIGINT NOT NULL,
    distinct_reporters    BIGINT NOT NULL,
    corroborated_reports  BIGINT NOT NULL,
    first_reported_at     TIMESTAMPTZ,
    last_reported_at      TIMESTAMPTZ
);

-- Every rule hit, with the rule's action, priority and legal basis at the time it fired.
CREATE TABLE IF NOT EXISTS rule_hits (
    run_date      DATE NOT NULL,
    run_id        VARCHAR NOT NULL,
    msisdn_int    BIGINT NOT NULL,
    rule_id       VARCHAR NOT NULL,
    action        VARCHAR NOT NULL,
    priority      INTEGER NOT NULL,
    score         DOUBLE NOT NULL,
    legal_basis   VARCHAR NOT NULL
);

-- One row per subscriber and run date: the strongest action of its hits, all reasons, the evidence.
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
    legal_basis           VARCHAR NOT NULL,
    due_by                DATE
);
