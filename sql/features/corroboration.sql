-- Complaint joins, step 4: is each complaint corroborated by the CDRs? Yes when the reported number
-- called or messaged the reporter inside the complaint's interval (see complaint_window). It can only
-- be checked with a reporter number and CDRs of the reported number's carrier (on-net) or of the
-- reporter's carrier for the anchor day; otherwise corroborated is NULL. An on-net number that did
-- not make the call is a spoofing signal (its caller ID was likely forged).
-- Parameters: run_date, run_id, lake_days (list of 'carrier/YYYY-MM-DD' present in the lake).
DELETE FROM complaint_corroboration WHERE run_date = $run_date;

INSERT INTO complaint_corroboration
WITH evidence AS (
    SELECT w.complaint_id, w.source_sha256,
           arg_min(c.record_id, c.start_time) AS record_id,
           min(c.start_time)                  AS at
    FROM _complaints_window w
    JOIN cdr_reported_contacts c
      ON c.run_date = $run_date
     AND c.a_number = w.reported_e164_int
     AND c.b_number = w.reporter_e164_int
     AND c.start_time BETWEEN w.window_from AND w.window_to
    GROUP BY w.complaint_id, w.source_sha256
),
flags AS (
    SELECT w.*,
           coalesce(list_contains($lake_days, w.carrier || '/' || strftime(w.anchor_day, '%Y-%m-%d')), false) AS on_net,
           coalesce(list_contains($lake_days, w.reporter_carrier || '/' || strftime(w.anchor_day, '%Y-%m-%d')), false) AS reporter_on_net,
           e.record_id AS evidence_record_id, e.at AS evidence_at
    FROM _complaints_window w
    LEFT JOIN evidence e ON e.complaint_id = w.complaint_id AND e.source_sha256 = w.source_sha256
)
SELECT
    $run_date, complaint_id, source_sha256, reported_e164_int, reporter_e164_int, carrier,
    anchor_at, anchor_kind, window_from, window_to, on_net,
    reporter_e164_int IS NOT NULL AND (on_net OR reporter_on_net)                   AS checkable,
    CASE WHEN evidence_record_id IS NOT NULL THEN true
         WHEN reporter_e164_int IS NOT NULL AND (on_net OR reporter_on_net) THEN false END AS corroborated,
    evidence_record_id, evidence_at,
    on_net AND reporter_e164_int IS NOT NULL AND evidence_record_id IS NULL         AS spoofing_signal,
    $run_id
FROM flags;
