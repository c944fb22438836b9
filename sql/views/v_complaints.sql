-- Analyst view: one row per complaint from any channel, numbers normalised.
CREATE OR REPLACE VIEW v_complaints AS
SELECT complaint_id, channel, received_at, occurred_at,
       reporter_e164 AS reporter, reporter_carrier,
       reported_e164 AS reported_number, reported_national, reported_kind, reported_carrier AS carrier,
       reported_prefix3 AS prefix, reported_protected AS protected,
       kind, category, content, source_file, source_line, run_id
FROM stg_complaints;
