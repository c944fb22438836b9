-- CDR ingest, step 4: the accepted, de-duplicated rows, sorted by caller and time, written as one Parquet
-- file per (local day, caller bucket) under a staging folder the caller then renames into the lake.
-- Parameter: row_group_rows. Literals: spool, out_dir. Returns the number of rows written.
COPY (
    SELECT record_id, a_number, b_number, start_time, local_hour, duration_s, event_type, a_carrier,
           cell_id, cell_key, imei, day, bucket
    FROM read_parquet({{ spool }}) s
    ANTI JOIN _cdr_drop d ON s.source_line = d.source_line
    ORDER BY a_number, start_time, record_id
) TO {{ out_dir }} (
    FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE $row_group_rows,
    PARTITION_BY (day, bucket), WRITE_PARTITION_COLUMNS false, WRITE_BLOOM_FILTER false, OVERWRITE
);
