-- The numbers ported by the run date, with their current carrier: the only warehouse input of the
-- bucket passes, written to a Parquet file so a pass (in-process or on a Dask worker) reads files only.
-- Parameters: run_date.
SELECT e164_int AS a_number, carrier
FROM current_carrier_on($run_date)
ORDER BY a_number;
