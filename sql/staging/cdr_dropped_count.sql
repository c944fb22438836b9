-- CDR ingest, step 6: how many rows were dropped as duplicates (within the file or already in the lake).
SELECT count(*) AS dropped FROM _cdr_drop;
