-- Feature stage summary for the run report: subscribers with features per carrier for a run date.
SELECT carrier, count(*) AS subscribers, count_if(imei_max_subscribers > 1) AS shared_imei
FROM cdr_subscriber_features
WHERE run_date = $run_date
GROUP BY carrier
ORDER BY carrier;
