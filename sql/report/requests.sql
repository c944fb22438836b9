-- Authority requests as they stood at the end of the run date (local), from requests_as_of
-- (sql/views/v_requests.sql): a fixed instant, so a re-run reports the same. Overdue = past due_at with
-- no package. Parameters: run_date, tz.
SELECT request_id, authority, requested_action,
       strftime(timezone($tz, received_at), '%Y-%m-%d %H:%M')                   AS received_local,
       coalesce(strftime(timezone($tz, due_at), '%Y-%m-%d %H:%M'), '')          AS due_local,
       coalesce(carrier, '')                                                    AS carrier,
       status, overdue,
       CASE WHEN overdue
            THEN round(epoch(timezone($tz, CAST($run_date + 1 AS TIMESTAMP)) - due_at) / 3600.0, 1) END AS hours_overdue,
       coalesce(numbers, 0)                                                     AS numbers
FROM requests_as_of(timezone($tz, CAST($run_date + 1 AS TIMESTAMP)))
WHERE received_at < timezone($tz, CAST($run_date + 1 AS TIMESTAMP))
ORDER BY overdue DESC, due_at NULLS LAST, request_id, carrier;
