-- Subscriber registry (subscribers/<carrier>/ full snapshots), ported numbers (ported/), registry checks.
--
-- PRIVACY: registry_subscribers is the ONLY table holding full names, dates of birth and ID numbers.
-- Analysts use v_subscribers_pseudo (a keyed HMAC pseudonym, person_ref, instead of the person);
-- pkg_subscribers exposes the real values for package building only.

-- One row per landed snapshot (carrier, day). Snapshots of a carrier are applied in date order.
CREATE TABLE IF NOT EXISTS registry_snapshots (
    carrier        VARCHAR NOT NULL,
    snapshot_date  DATE NOT NULL,
    source_file    VARCHAR NOT NULL,
    source_sha256  VARCHAR NOT NULL,
    rows_accepted  BIGINT NOT NULL,
    run_id         VARCHAR NOT NULL
);

-- The registry as versions (type-2 history): a row is one subscriber record as it stood from snapshot
-- valid_from until the snapshot valid_to (exclusive) where any attribute changed or the number left the
-- registry; valid_to NULL = as in the carrier's latest snapshot. A full daily snapshot of an unchanged
-- registry adds no rows, and "what was true on day D" is one range predicate (see registry_on).
CREATE TABLE IF NOT EXISTS registry_subscribers (
    carrier             VARCHAR NOT NULL,      -- the network whose registry lists the number
    msisdn_int          BIGINT NOT NULL,       -- E.164 digits, join key
    msisdn              VARCHAR NOT NULL,      -- '+84…'
    msisdn_national     VARCHAR NOT NULL,      -- '0…'
    prefix_carrier      VARCHAR,               -- original carrier by prefix
    valid_from          DATE NOT NULL,
    valid_to            DATE,
    subscriber_id       VARCHAR NOT NULL,
    activated_on        DATE NOT NULL,
    plan                VARCHAR NOT NULL,      -- prepaid | postpaid
    status              VARCHAR NOT NULL,      -- active | one_way_blocked | two_way_blocked | terminated
    full_name           VARCHAR,               -- PII
    date_of_birth       DATE,                  -- PII
    id_type             VARCHAR,               -- as delivered, lower case; the profile maps aliases
    id_number           VARCHAR,               -- PII
    id_issued_on        DATE,
    id_issued_place     VARCHAR,
    photo_ref           VARCHAR,
    registration_point  VARCHAR NOT NULL,      -- own_store | agent | online | ekyc
    kyc_verified        BOOLEAN NOT NULL,
    guardian_flag       BOOLEAN,               -- optional column: a parent/guardian signed for a minor
    malformed_fields    VARCHAR[] NOT NULL,    -- fields present but unreadable (e.g. date_of_birth '31/02/1990')
    person_ref          VARCHAR,               -- HMAC-SHA-256(key, normalised id_number), hex
    source_file         VARCHAR NOT NULL,
    source_sha256       VARCHAR NOT NULL,
    source_line         BIGINT,
    run_id              VARCHAR NOT NULL
);

-- Fingerprint (an HMAC of a fixed text) of the key the stored person_ref values were made with: when the
-- key changes, every person_ref is recomputed before new rows land, so pseudonyms never mix keys.
CREATE TABLE IF NOT EXISTS registry_key_fingerprint (
    fingerprint  VARCHAR NOT NULL
);

-- Status transitions seen between consecutive snapshots of a carrier (from_status NULL: the number
-- appeared; to_status NULL: it left the registry). The first snapshot of a carrier records none.
CREATE TABLE IF NOT EXISTS registry_status_changes (
    carrier            VARCHAR NOT NULL,
    msisdn_int         BIGINT NOT NULL,
    msisdn             VARCHAR NOT NULL,
    changed_on         DATE NOT NULL,          -- the snapshot that first shows the new status
    previous_snapshot  DATE NOT NULL,          -- the change happened after this snapshot
    from_status        VARCHAR,
    to_status          VARCHAR,
    source_sha256      VARCHAR NOT NULL,
    run_id             VARCHAR NOT NULL
);

-- Ported numbers (MNP): the number belongs to `carrier` from ported_on (local date of ported_at).
CREATE TABLE IF NOT EXISTS stg_ported (
    msisdn_int      BIGINT NOT NULL,
    msisdn          VARCHAR NOT NULL,
    msisdn_national VARCHAR NOT NULL,
    prefix_carrier  VARCHAR,
    carrier         VARCHAR NOT NULL,
    ported_at       TIMESTAMPTZ NOT NULL,
    ported_on       DATE NOT NULL,
    source_file     VARCHAR NOT NULL,
    source_sha256   VARCHAR NOT NULL,
    source_line     BIGINT,
    run_id          VARCHAR NOT NULL
);

-- One row per run date on which the subscriber-information checks ran (the profile then in force).
CREATE TABLE IF NOT EXISTS registry_check_runs (
    run_date     DATE NOT NULL,
    run_id       VARCHAR NOT NULL,
    profile      VARCHAR NOT NULL,
    checked_at   TIMESTAMPTZ NOT NULL
);

-- Every subscriber-information check that fails, per run date (a run date's rows are replaced on re-run).
-- detail never holds a name, date of birth or ID number.
CREATE TABLE IF NOT EXISTS registry_check_hits (
    run_date     DATE NOT NULL,
    run_id       VARCHAR NOT NULL,
    msisdn_int   BIGINT NOT NULL,
    carrier      VARCHAR NOT NULL,
    check_id     VARCHAR NOT NULL,
    legal_basis  VARCHAR NOT NULL,
    detail       VARCHAR
);

-- When each subscriber was FIRST flagged in its current episode (kept across runs): the enforcement
-- ladder counts from first_flagged_on. A subscriber found clean by a check run starts a new episode
-- if flagged again later.
CREATE TABLE IF NOT EXISTS reverify_flags (
    carrier           VARCHAR NOT NULL,
    msisdn_int        BIGINT NOT NULL,
    first_flagged_on  DATE NOT NULL,
    first_run_id      VARCHAR NOT NULL,
    last_flagged_on   DATE NOT NULL,
    last_run_id       VARCHAR NOT NULL,
    PRIMARY KEY (carrier, msisdn_int)
);

-- Per flagged subscriber and run date: where it stands on the active profile's ladder.
CREATE TABLE IF NOT EXISTS reverify_due (
    run_date          DATE NOT NULL,
    run_id            VARCHAR NOT NULL,
    carrier           VARCHAR NOT NULL,
    msisdn_int        BIGINT NOT NULL,
    profile           VARCHAR NOT NULL,
    check_ids         VARCHAR NOT NULL,     -- ';'-separated
    first_flagged_on  DATE NOT NULL,
    current_step      VARCHAR,              -- the last step reached (NULL before the first)
    next_step         VARCHAR NOT NULL,     -- the step due next (the final step once all are reached)
    due_by            DATE NOT NULL,        -- the date of next_step
    overdue           BOOLEAN NOT NULL,     -- every step's date has passed
    legal_basis       VARCHAR NOT NULL      -- next_step's basis in the profile
);

-- ID documents compare on letters and digits only, upper case ('012 345 678' = '012345678').
CREATE OR REPLACE MACRO id_key(v) AS nullif(upper(regexp_replace(v, '[^0-9A-Za-z]', '', 'g')), '');

-- Names compare without case, tone marks or spacing ('NGUYEN VAN AN' = 'Nguyễn  Văn An').
CREATE OR REPLACE MACRO name_key(v) AS
    nullif(trim(regexp_replace(upper(strip_accents(replace(replace(v, 'đ', 'd'), 'Đ', 'D'))), '\s+', ' ', 'g')), '');

-- The registry as it stood on day as_of: each carrier's latest snapshot on or before as_of.
CREATE OR REPLACE MACRO registry_on(as_of) AS TABLE
    SELECT * FROM registry_subscribers
    WHERE valid_from <= as_of AND (valid_to IS NULL OR valid_to > as_of);

-- "What was this number's status on day D": SELECT * FROM subscriber_status_on(DATE '2024-03-05') WHERE msisdn = '+84…'.
-- as_of_snapshot is the carrier snapshot that answers; a number absent from it has no row. No personal data.
CREATE OR REPLACE MACRO subscriber_status_on(as_of) AS TABLE
    SELECT r.carrier, r.msisdn_int, r.msisdn, r.msisdn_national, r.status, r.plan,
           (SELECT max(s.snapshot_date) FROM registry_snapshots s
            WHERE s.carrier = r.carrier AND s.snapshot_date <= as_of) AS as_of_snapshot
    FROM registry_on(as_of) r;

-- CURRENT CARRIER — the one model for "which carrier holds number N on day D":
--   the carrier of the number's latest port on or before D (ported numbers, this macro), else the carrier
--   of its prefix (the ORIGINAL carrier, from the numbering core, columns *_carrier). Use it as
--       LEFT JOIN current_carrier_on(<day>) p ON p.e164_int = x.msisdn_int
--       ... coalesce(p.carrier, x.prefix_carrier) AS carrier
--   or, for a few rows, the scalar carrier_on(x.msisdn_int, x.prefix_carrier, <day>).
-- Two port records of one number at the same instant to different carriers are resolved by carrier name
-- here and reported in v_registry_conflicts (kind 'port_same_instant').
CREATE OR REPLACE MACRO current_carrier_on(as_of) AS TABLE
    SELECT msisdn_int AS e164_int, carrier, ported_on, ported_at
    FROM stg_ported
    WHERE ported_on <= as_of
    QUALIFY row_number() OVER (PARTITION BY msisdn_int ORDER BY ported_at DESC, carrier) = 1;

CREATE OR REPLACE MACRO carrier_on(num, prefix_carrier, as_of) AS
    coalesce((SELECT c.carrier FROM current_carrier_on(as_of) c WHERE c.e164_int = num), prefix_carrier);
