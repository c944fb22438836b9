-- CDR ingest, step 3: rows whose record id is already in another file of the same carrier-day.
-- Parameters: existing (list of lake files of this carrier on the file's days, own file excluded),
-- min_record_id/max_record_id (the file's range: row groups outside it are skipped by statistics).
-- Literal: spool. Appends to _cdr_drop.
INSERT INTO _cdr_drop
SELECT s.source_line
FROM read_parquet({{ spool }}) s
SEMI JOIN (
    SELECT DISTINCT day, record_id
    FROM read_parquet($existing, hive_partitioning = true, hive_types = {'day': DATE, 'bucket': INTEGER})
    WHERE record_id BETWEEN $min_record_id AND $max_record_id
) e ON s.day = e.day AND s.record_id = e.record_id
ANTI JOIN _cdr_drop d ON s.source_line = d.source_line;
