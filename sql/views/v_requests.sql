-- Authority requests and their answers: one row per request (its latest delivery) and carrier that was
-- packaged for it, so the compliance team and the run report see which requests are still unanswered.
--
-- request_packages is the packaging step's log (sql/packages/record_package): one row per request
-- delivery, run date and holding carrier whose package was written (carrier NULL, package_path NULL: a
-- build found no configured carrier holding any requested number). It lives here, not in sql/schema,
-- because this view is its only reader and must find it on a fresh warehouse.
CREATE TABLE IF NOT EXISTS request_packages (
    request_id       VARCHAR NOT NULL,
    source_sha256    VARCHAR NOT NULL,       -- the request delivery (stg_requests.source_sha256)
    run_date         DATE NOT NULL,          -- the package's data is as of this local day
    carrier          VARCHAR,                -- holding carrier; NULL = nobody holds any requested number
    package_path     VARCHAR,                -- <out>/<run_date>/<carrier>/packages/<slug>.zip
    package_sha256   VARCHAR,                -- of the zip as written
    numbers_held     INTEGER NOT NULL,       -- requested numbers this carrier holds
    generated_at     TIMESTAMPTZ NOT NULL,   -- the time the package states (manifest generated_at): the answer's time
    first_built_at   TIMESTAMPTZ NOT NULL,   -- wall clock of the first build (audit only)
    last_built_at    TIMESTAMPTZ NOT NULL,   -- wall clock of the latest (re)build (audit only)
    run_id           VARCHAR NOT NULL
);

-- The requests as they stood at instant as_of. A package counts from its generated_at — the time its
-- signed manifest states and judges its own deadline by (the end of the run date for the daily run, the
-- clock for the hourly intake), so this view and the manifest never disagree and a replay reports the
-- same. v_requests is this at now(); a report that must not depend on the clock passes its own instant.
--   status: packaged | packaged_late (first package generated after due_at) | no_holder (checked, no
--           configured carrier holds any number) | overdue (no package and due_at has passed) | pending
--   overdue: no package yet and due_at < as_of — the "requests past due without a package" list.
CREATE OR REPLACE MACRO requests_as_of(as_of) AS TABLE
WITH latest AS (
    SELECT r.*
    FROM stg_requests r
    LEFT JOIN ingest_log l ON l.sha256 = r.source_sha256
    QUALIFY row_number() OVER (PARTITION BY r.request_id
                               ORDER BY l.ingested_at DESC NULLS LAST, r.received_at DESC, r.source_sha256 DESC) = 1
),
numbers AS (
    SELECT request_id, source_sha256, count(DISTINCT coalesce(e164, number_raw)) AS numbers
    FROM stg_request_numbers
    GROUP BY ALL
),
built AS (
    SELECT * FROM request_packages WHERE generated_at <= as_of
),
per_carrier AS (
    SELECT request_id, source_sha256, carrier,
           bool_or(package_path IS NOT NULL)                                   AS has_package,
           arg_max(package_path, (run_date, generated_at))                     AS package_path,
           max(run_date) FILTER (WHERE package_path IS NOT NULL)               AS package_run_date,
           min(generated_at) FILTER (WHERE package_path IS NOT NULL)           AS first_packaged_at,
           max(numbers_held)                                                   AS numbers_held
    FROM built
    WHERE carrier IS NOT NULL
    GROUP BY ALL
),
checked AS (
    SELECT DISTINCT request_id, source_sha256 FROM built
)
SELECT
    q.request_id, q.request_slug, q.authority, q.requested_action, q.legal_basis, q.fields,
    q.received_at, q.due_at, q.period_from, q.period_to, n.numbers, q.source_file, q.source_sha256,
    p.carrier,
    coalesce(p.has_package, false)                                             AS has_package,
    p.package_path, p.package_run_date, p.first_packaged_at, p.numbers_held,
    CASE WHEN p.has_package AND q.due_at IS NOT NULL AND p.first_packaged_at > q.due_at THEN 'packaged_late'
         WHEN p.has_package THEN 'packaged'
         WHEN c.request_id IS NOT NULL AND p.request_id IS NULL THEN 'no_holder'
         WHEN q.due_at < as_of THEN 'overdue'
         ELSE 'pending' END                                                    AS status,
    (NOT coalesce(p.has_package, false) AND coalesce(q.due_at < as_of, false)) AS overdue
FROM latest q
LEFT JOIN numbers n ON n.request_id = q.request_id AND n.source_sha256 = q.source_sha256
LEFT JOIN per_carrier p ON p.request_id = q.request_id AND p.source_sha256 = q.source_sha256
LEFT JOIN checked c ON c.request_id = q.request_id AND c.source_sha256 = q.source_sha256;

-- Analyst and run-report view: every request (latest delivery) × carrier packaged for it, as of now.
CREATE OR REPLACE VIEW v_requests AS
SELECT * FROM requests_as_of(now());
