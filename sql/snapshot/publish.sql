-- Copy the whole warehouse (tables, views, macros, comments) into a fresh database file: the analysts'
-- read-only snapshot. The caller renames the finished file into place, so readers see the old snapshot
-- or the new one, never a partial copy. Literals: source (the warehouse), target (a new temp file).
ATTACH {{ source }} AS subflag_source;
CHECKPOINT subflag_source;
ATTACH {{ target }} AS subflag_snapshot;
COPY FROM DATABASE subflag_source TO subflag_snapshot;
DETACH subflag_snapshot;
DETACH subflag_source;
