-- CDR ingest, step 5: the callee-side projection (b_number, event_type), bucketed by b_number % buckets,
-- so the feature stage counts a subscriber's inbound events from one bucket instead of every bucket.
-- Parameter: row_group_rows. Literals: spool, out_dir.
COPY (
    SELECT b_number, event_type, day, b_bucket AS bucket
    FROM read_parquet({{ spool }}) s
    ANTI JOIN _cdr_drop d ON s.source_line = d.source_line
    WHERE b_number IS NOT NULL
    ORDER BY b_number, event_type  -- every written column: the bytes do not depend on thread scheduling
) TO {{ out_dir }} (
    FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE $row_group_rows,
    PARTITION_BY (day, bucket), WRITE_PARTITION_COLUMNS false, WRITE_BLOOM_FILTER false, OVERWRITE
);
