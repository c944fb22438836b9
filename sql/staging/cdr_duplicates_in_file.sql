-- CDR ingest, step 2: every extra copy of a (day, record_id) inside the file; the first line wins.
-- Writes temp table _cdr_drop(source_line). Literal: spool.
CREATE OR REPLACE TEMP TABLE _cdr_drop AS
WITH dup_keys AS (
    SELECT day, record_id
    FROM read_parquet({{ spool }})
    GROUP BY day, record_id
    HAVING count(*) > 1
),
copies AS (
    SELECT s.source_line,
           row_number() OVER (PARTITION BY s.day, s.record_id ORDER BY s.source_line) AS copy
    FROM read_parquet({{ spool }}) s
    SEMI JOIN dup_keys k ON s.day = k.day AND s.record_id = k.record_id
)
SELECT source_line FROM copies WHERE copy > 1;
