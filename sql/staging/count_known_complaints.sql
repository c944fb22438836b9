-- How many of the incoming complaints are already staged (same content): re-delivered rows.
SELECT count(*) AS known
FROM incoming_complaints
WHERE complaint_fingerprint(complaint_id, channel, received_at, occurred_at, reporter_raw, reported_raw, category, content)
      IN (SELECT row_sha256 FROM stg_complaints);
