"""Run lineage on a small simulated world: v_runs holds every input hash and the config hash, outputs carry
their run id and SHA-256, and re-running a date changes nothing but that run's own row."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from transforms.config import load_config
from transforms.lineage import code_version
from transforms.simulate import SimulationSpec, simulate_inbox

FIRST_DATE = date(2024, 3, 4)
RUN_DATE = date(2024, 3, 5)
# Execution timestamps: they belong to the execution, like runs.started_at, and may change on a re-run.
EXECUTION_COLUMNS = {"registry_check_runs": {"checked_at"}}


@dataclass(frozen=True)
class World:
    inbox: Path
    warehouse: Path
    lake: Path
    out: Path

    def run(self, run_date: date):
        from flows.daily import daily_run

        return daily_run(run_date=run_date, inbox=self.inbox, warehouse=self.warehouse, lake=self.lake, out=self.out)


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def warehouse_state(path: Path) -> dict[str, str]:
    """A digest of every table's full contents (order-free), except the runs table itself."""
    state = {}
    with duckdb.connect(str(path), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()]
        for table in tables:
            if table == "runs":
                continue
            skip = EXECUTION_COLUMNS.get(table, set())
            cols = [c for (c,) in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                                              "ORDER BY column_index", [table]).fetchall() if c not in skip]
            rows = con.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
            state[table] = hashlib.sha256(repr(sorted(map(repr, rows))).encode()).hexdigest() + f":{len(rows)}"
    return state


def v_runs(path: Path) -> pl.DataFrame:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("SELECT * FROM v_runs ORDER BY run_date, flow").pl()


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness) -> World:
    root = tmp_path_factory.mktemp("lineage")
    w = World(root / "inbox", root / "warehouse.duckdb", root / "lake", root / "out")
    simulate_inbox(SimulationSpec(subscribers=1000, days=3, end_date=RUN_DATE, seed=5), load_config(), w.inbox, root / "truth")
    w.run(FIRST_DATE)
    return w


@pytest.fixture(scope="module")
def first_summary(world):
    return world.run(RUN_DATE)


def test_v_runs_holds_every_input_hash_config_hash_and_code_version(world, first_summary):
    runs = v_runs(world.warehouse)
    assert runs.select("run_date", "flow", "status", "executions").rows() == [
        (FIRST_DATE, "daily", "completed", 1), (RUN_DATE, "daily", "completed", 1)]
    row = runs.filter(pl.col("run_id") == first_summary.run_id).row(0, named=True)
    inbox_hashes = {hashlib.sha256(p.read_bytes()).hexdigest() for p in world.inbox.rglob("*") if p.is_file()}
    assert len(inbox_hashes) > 30
    assert set(row["input_sha256"]) == inbox_hashes
    assert row["input_files"] == len(inbox_hashes) == len(row["inputs"])
    assert {i["sha256"] for i in row["inputs"]} == inbox_hashes
    assert row["config_sha256"] == load_config().digest
    assert row["code_version"] == code_version() and row["code_version"].startswith("0.")
    counts = json.loads(row["stage_counts"])
    inbox_files = [p for p in world.inbox.rglob("*") if p.is_file()]
    assert counts["files_new"] == 0 and counts["files_known"] == len(inbox_files)
    assert counts["candidates"] == first_summary.candidates
    assert counts["rows"]["feature_rows"] == first_summary.rows["feature_rows"] > 0


def test_outputs_are_listed_with_their_sha256(world, first_summary):
    row = v_runs(world.warehouse).filter(pl.col("run_id") == first_summary.run_id).row(0, named=True)
    outputs = json.loads(row["outputs"])
    assert set(outputs) == {str(p) for p in first_summary.outputs}
    assert any(k.endswith("report.html") for k in outputs) and any(k.endswith("suspension_candidates.csv") for k in outputs)
    for path, sha in outputs.items():
        assert hashlib.sha256(Path(path).read_bytes()).hexdigest() == sha, path


def test_every_output_row_carries_its_run_id(world, first_summary):
    run_folder = world.out / RUN_DATE.isoformat()
    tabular = sorted(p for p in run_folder.rglob("*") if p.suffix in (".csv", ".parquet"))
    assert len(tabular) >= 8
    for path in tabular:
        frame = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path, infer_schema=False)
        assert "run_id" in frame.columns, path
        assert set(frame["run_id"].to_list()) <= {first_summary.run_id}, path
    assert first_summary.run_id in (run_folder / "report.html").read_text(encoding="utf-8")
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        without = {t for (t,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name NOT IN "
            "(SELECT table_name FROM duckdb_columns() WHERE column_name IN ('run_id', 'first_run_id'))").fetchall()}
        flagged = con.execute("SELECT DISTINCT run_id FROM candidates WHERE run_date = $d", {"d": RUN_DATE}).fetchall()
    assert flagged == [(first_summary.run_id,)]
    assert without <= {"registry_key_fingerprint", "reverify_flags"} | KNOWN_GAPS, without


# Tables known to lack a run_id today (reported to the lead; remove a name once its table carries one).
KNOWN_GAPS = {"stg_request_numbers", "cdr_reported_contacts"}


def test_rerun_changes_nothing_but_the_runs_own_row(world, first_summary):
    before_state = warehouse_state(world.warehouse)
    before_out, before_lake = digests(world.out), digests(world.lake)
    before_runs = v_runs(world.warehouse)
    again = world.run(RUN_DATE)
    assert again.run_id == first_summary.run_id and again.files_new == 0
    assert warehouse_state(world.warehouse) == before_state
    assert digests(world.out) == before_out
    assert digests(world.lake) == before_lake
    after_runs = v_runs(world.warehouse)
    others = pl.col("run_id") != first_summary.run_id
    assert after_runs.filter(others).equals(before_runs.filter(others))
    old = before_runs.filter(~others).row(0, named=True)
    new = after_runs.filter(~others).row(0, named=True)
    changed = {k for k in new if new[k] != old[k]}
    assert changed == {"executions", "started_at", "finished_at", "execution_history"}
    assert (old["executions"], new["executions"]) == (1, 2)
    assert [e["status"] for e in new["execution_history"]] == ["completed", "completed"]
    with duckdb.connect(str(world.warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM v_run_executions WHERE run_id = $r",
                           {"r": first_summary.run_id}).fetchall() == [(2,)]

