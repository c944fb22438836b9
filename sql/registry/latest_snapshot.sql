-- The latest landed snapshot of one carrier (NULL when none): full snapshots must arrive in date order.
SELECT max(snapshot_date) AS latest FROM registry_snapshots WHERE carrier = $carrier;
