-- complaints.csv: every complaint (any channel) naming a number in pkg_numbers, received on a local day
-- of the request period and before $cutoff (the package's data cut-off, so a rebuild reads the same rows).
-- reporter is the citizen's number normalised to E.164; content is the text as received (the CSV writer
-- keeps it inert). No registry data is read.
SELECT c.complaint_id, c.channel, c.received_at, c.occurred_at,
       c.reporter_e164 AS reporter,
       c.reported_e164 AS reported_number, c.reported_national, c.reported_raw AS reported_as,
       c.kind, c.category, c.content
FROM stg_complaints c
JOIN pkg_numbers n ON n.e164_int = c.reported_e164_int
WHERE CAST(timezone($tz, c.received_at) AS DATE) BETWEEN $period_from AND $period_to
  AND c.received_at < $cutoff
ORDER BY c.received_at, c.complaint_id, c.reported_e164;
