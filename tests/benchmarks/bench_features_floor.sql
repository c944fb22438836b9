-- The floor for bench_features: one bare GROUP BY over the same lake files (count, exact distinct
-- callees, short-call share), materialised into a table like the feature stage's output.
-- Parameters: glob (the lake's cdr/*/*/*/*.parquet), short (short_call_seconds).
CREATE OR REPLACE TABLE floor AS
SELECT a_number,
       count(*)                   AS events,
       count(DISTINCT b_number)   AS callees,
       count_if(event_type = 'voice' AND duration_s > 0 AND duration_s < $short)
         / nullif(count_if(event_type = 'voice' AND duration_s > 0), 0) AS short_call_share
FROM read_parquet($glob)
GROUP BY a_number;

SELECT count(*) AS subscribers FROM floor;
