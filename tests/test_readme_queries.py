"""The README's ten analyst queries, run as written against the read-only snapshot of a simulated run —
in another process, while this one holds the main warehouse open for writing (DuckDB then refuses every
other process the main file, which is why the snapshot exists)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from transforms.config import PROJECT_ROOT, load_config
from transforms.simulate import SimulationSpec, simulate_inbox
from transforms.snapshot import snapshot_path

RUN_DATE = date(2024, 3, 5)
README = PROJECT_ROOT / "README.md"

RUNNER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
results = []
for sql in json.load(sys.stdin):
    rows = con.sql(sql).fetchall()
    results.append(len(rows))
print(json.dumps(results))
"""


def readme_queries() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start, end = text.index("<!-- queries:start -->"), text.index("<!-- queries:end -->")
    return [q.strip() for q in re.findall(r"```sql\n(.*?)```", text[start:end], flags=re.DOTALL)]


def run_elsewhere(database: Path, queries: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", RUNNER, str(database)], input=json.dumps(queries),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory, prefect_harness) -> Path:
    from flows.daily import daily_run

    root = tmp_path_factory.mktemp("readme")
    simulate_inbox(SimulationSpec(subscribers=1000, days=3, end_date=RUN_DATE, seed=5), load_config(),
                   root / "inbox", root / "truth")
    daily_run(run_date=RUN_DATE, inbox=root / "inbox", warehouse=root / "warehouse.duckdb", lake=root / "lake",
              out=root / "out")
    return root / "warehouse.duckdb"


def test_readme_has_ten_queries_under_the_warehouse_section():
    text = README.read_text(encoding="utf-8")
    assert text.index("## Warehouse") < text.index("<!-- queries:start -->") < text.index("<!-- queries:end -->")
    assert text.index("<!-- queries:end -->") < text.index("\n## ", text.index("## Warehouse") + 1)
    assert len(readme_queries()) == 10


def test_queries_run_on_the_snapshot_while_the_warehouse_is_held_for_writing(warehouse):
    queries = readme_queries()
    snapshot = snapshot_path(warehouse)
    assert snapshot.is_file(), "the daily run did not publish the analysts' snapshot"
    writer = duckdb.connect(str(warehouse))
    try:
        writer.execute("CREATE TABLE IF NOT EXISTS held_by_the_test AS SELECT 1 AS x")  # a real write, lock held
        refused = run_elsewhere(warehouse, queries[:1])
        assert refused.returncode != 0 and "lock" in refused.stderr.lower(), refused.stderr[-800:]
        result = run_elsewhere(snapshot, queries)
        assert result.returncode == 0, result.stderr[-2000:]
    finally:
        writer.close()
    counts = json.loads(result.stdout)
    empty = [q.splitlines()[0] for q, n in zip(queries, counts) if n == 0]
    assert not empty, f"README queries that return nothing on the demo-like run: {empty}"


FULLY_DOCUMENTED = ("v_complaints", "v_subscriber_features", "v_candidates", "v_prefix_hotspots", "v_runs")
DOCUMENTED = (*FULLY_DOCUMENTED, "v_requests", "v_run_executions", "v_subscribers_pseudo")
PII_COLUMNS = {"full_name", "date_of_birth", "id_number", "id_issued_on", "id_issued_place", "photo_ref"}


def test_analyst_views_carry_their_documentation(tmp_path, settings):
    from transforms.warehouse import connect, run_folder

    with connect(tmp_path / "w.duckdb", settings.run.duckdb) as con:
        run_folder(con, "schema")
        run_folder(con, "views")
        run_folder(con, "views")                      # re-running the views keeps the comments
        views = dict(con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal").fetchall())
        columns = con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                              "WHERE table_name IN $v", {"v": list(DOCUMENTED)}).fetchall()
    for view in DOCUMENTED:
        assert views.get(view), f"{view} has no COMMENT ON VIEW"
    undocumented = [(t, c) for t, c, comment in columns if t in FULLY_DOCUMENTED and not comment]
    assert not undocumented, undocumented
    features = {c for t, c, _ in columns if t == "v_subscriber_features"}
    assert len(features) > 50 and not features & PII_COLUMNS
    assert not {c for t, c, _ in columns if t == "v_subscribers_pseudo"} & PII_COLUMNS
