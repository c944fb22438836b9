-- Typed, normalised complaints from every channel (5656 SMS, hotline, web, app, police).
-- Numbers: *_e164 '+84…' text, *_e164_int BIGINT digits (join key with the CDR lake), *_national '0…'.
CREATE TABLE IF NOT EXISTS stg_complaints (
    complaint_id        VARCHAR NOT NULL,
    channel             VARCHAR NOT NULL,
    received_at         TIMESTAMPTZ NOT NULL,
    occurred_at         TIMESTAMPTZ,
    reporter_raw        VARCHAR,
    reporter_e164       VARCHAR,
    reporter_e164_int   BIGINT,
    reporter_carrier    VARCHAR,
    reported_raw        VARCHAR,
    reported_e164       VARCHAR,
    reported_e164_int   BIGINT,
    reported_national   VARCHAR,
    reported_kind       VARCHAR NOT NULL,
    reported_prefix3    VARCHAR,
    reported_prefix5    VARCHAR,
    reported_carrier    VARCHAR,             -- original carrier by prefix; current carrier comes from v_current_carrier
    reported_legacy     BOOLEAN,
    reported_protected  BOOLEAN,
    kind                VARCHAR,             -- call | sms
    category            VARCHAR NOT NULL,
    content             VARCHAR,
    source_file         VARCHAR NOT NULL,
    source_sha256       VARCHAR NOT NULL,
    source_line         BIGINT,
    row_sha256          VARCHAR NOT NULL,    -- fingerprint of the complaint's content: a re-delivered row is recognised
    run_id              VARCHAR NOT NULL
);

-- The content fingerprint of a complaint: the same complaint delivered again (another file, a corrected
-- file with this row unchanged) has the same fingerprint, and staging keeps it once.
CREATE OR REPLACE MACRO complaint_fingerprint(complaint_id, channel, received_at, occurred_at, reporter_raw,
                                              reported_raw, category, content) AS
    sha256(concat_ws(chr(31), complaint_id, channel, CAST(received_at AS VARCHAR), coalesce(CAST(occurred_at AS VARCHAR), ''),
                     coalesce(reporter_raw, ''), coalesce(reported_raw, ''), category, coalesce(content, '')));

-- Do-Not-Call registrations sent to 5656 (DK DNC / HUY DNC): recorded, never complaints.
CREATE TABLE IF NOT EXISTS stg_dnc (
    received_at     TIMESTAMPTZ NOT NULL,
    reporter_raw    VARCHAR,
    reporter_e164   VARCHAR,
    action          VARCHAR NOT NULL,
    detail          VARCHAR,
    source_file     VARCHAR NOT NULL,
    source_sha256   VARCHAR NOT NULL,
    source_line     BIGINT,
    run_id          VARCHAR NOT NULL
);
