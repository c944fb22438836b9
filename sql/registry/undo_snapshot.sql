-- Take back a carrier's LATEST snapshot, so a corrected file for the same day can replace it:
-- versions it opened go, versions it closed reopen, its status changes and snapshot row go.
DELETE FROM registry_subscribers WHERE carrier = $carrier AND valid_from = $snapshot_date;
UPDATE registry_subscribers SET valid_to = NULL WHERE carrier = $carrier AND valid_to = $snapshot_date;
DELETE FROM registry_status_changes WHERE carrier = $carrier AND changed_on = $snapshot_date;
DELETE FROM registry_snapshots WHERE carrier = $carrier AND snapshot_date = $snapshot_date;
