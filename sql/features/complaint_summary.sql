-- Complaint joins, summary for the run report. Parameter: run_date.
SELECT
    (SELECT count(*) FROM complaint_corroboration WHERE run_date = $run_date)                      AS complaints,
    (SELECT count(*) FROM complaint_subscriber_features WHERE run_date = $run_date)                AS reported_numbers,
    (SELECT count(*) FROM cdr_reported_contacts WHERE run_date = $run_date)                        AS contacts,
    (SELECT count(*) FILTER (WHERE corroborated) FROM complaint_corroboration WHERE run_date = $run_date)        AS corroborated,
    (SELECT count(*) FILTER (WHERE NOT corroborated) FROM complaint_corroboration WHERE run_date = $run_date)    AS uncorroborated,
    (SELECT count_if(corroborated IS NULL) FROM complaint_corroboration WHERE run_date = $run_date) AS unchecked,
    (SELECT count_if(spoofing_signal) FROM complaint_corroboration WHERE run_date = $run_date)     AS spoofing_signals,
    (SELECT count_if(is_hotspot) FROM prefix_hotspots WHERE run_date = $run_date)                  AS hotspots;
