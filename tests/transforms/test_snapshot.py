"""The analysts' snapshot: a complete, read-only copy, replaced atomically, readable while a writer holds the warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from transforms.snapshot import publish_snapshot, snapshot_path
from transforms.warehouse import connect, run_folder

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print(con.execute(sys.argv[2]).fetchall()[0][0])
"""


def read_in_subprocess(path: Path, sql: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", READER, str(path), sql], capture_output=True, text=True, timeout=60)


def catalogue(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {
        "tables": con.execute("SELECT table_name, estimated_size >= 0 FROM duckdb_tables() ORDER BY 1").fetchall(),
        "views": con.execute("SELECT view_name, comment FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall(),
        "macros": con.execute("SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type IN "
                              "('macro', 'table_macro') AND NOT internal ORDER BY 1").fetchall(),
        "comments": con.execute("SELECT table_name, column_name, comment FROM duckdb_columns() "
                                "WHERE comment IS NOT NULL ORDER BY 1, 2").fetchall(),
    }


@pytest.fixture()
def warehouse(tmp_path, settings) -> Path:
    path = tmp_path / "wh.duckdb"
    with connect(path, settings.run.duckdb) as con:
        run_folder(con, "schema")
        run_folder(con, "views")
        con.execute("INSERT INTO runs (execution_id, run_id, flow, run_date, started_at, status, config_sha256, "
                    "code_version, input_sha256) VALUES ('e1', 'r1', 'daily', DATE '2024-03-05', "
                    "TIMESTAMPTZ '2024-03-06 06:00:00+07', 'completed', 'c', 'v', ['a', 'b'])")
    return path


def test_snapshot_is_a_complete_read_only_copy(warehouse, settings):
    snap = publish_snapshot(warehouse, settings.run.duckdb, 0o640)
    assert snap == warehouse.with_name("wh.read.duckdb") == snapshot_path(warehouse)
    assert snap.stat().st_mode & 0o777 == 0o440
    assert not Path(f"{snap}.wal").exists()
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["wh.duckdb", "wh.read.duckdb"]
    with duckdb.connect(str(warehouse), read_only=True) as src, duckdb.connect(str(snap), read_only=True) as dst:
        expected, got = catalogue(src), catalogue(dst)
        assert got == expected
        assert len(got["comments"]) > 100 and ("v_runs", "Lineage, one row per run") in [
            (v, (c or "")[:24]) for v, c in got["views"]]
        assert dst.execute("SELECT run_id, executions, input_files FROM v_runs").fetchall() == [("r1", 1, 2)]
        assert dst.execute("SELECT count(*) FROM registry_on(DATE '2024-03-05')").fetchall() == [(0,)]


def test_replacement_is_atomic_for_open_readers(warehouse, settings):
    snap = publish_snapshot(warehouse, settings.run.duckdb)
    old_reader = duckdb.connect(str(snap), read_only=True)
    with connect(warehouse, settings.run.duckdb) as con:
        con.execute("UPDATE runs SET status = 'failed'")
    publish_snapshot(warehouse, settings.run.duckdb)
    assert old_reader.execute("SELECT status FROM runs").fetchall() == [("completed",)]
    old_reader.close()
    with duckdb.connect(str(snap), read_only=True) as new_reader:
        assert new_reader.execute("SELECT status FROM runs").fetchall() == [("failed",)]


def test_failed_copy_keeps_the_previous_snapshot(warehouse, settings, tmp_path):
    snap = publish_snapshot(warehouse, settings.run.duckdb)
    before = snap.read_bytes()
    holder = duckdb.connect(str(warehouse))            # same process: DuckDB refuses a second attach
    try:
        with pytest.raises(Exception, match="already attached|in use|lock"):
            publish_snapshot(warehouse, settings.run.duckdb)
    finally:
        holder.close()
    assert snap.read_bytes() == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["wh.duckdb", "wh.read.duckdb"]
    with pytest.raises(FileNotFoundError, match="no warehouse"):
        publish_snapshot(tmp_path / "missing.duckdb")


def test_snapshot_is_readable_while_another_process_may_not_read_the_warehouse(warehouse, settings):
    snap = publish_snapshot(warehouse, settings.run.duckdb)
    writer = duckdb.connect(str(warehouse))
    try:
        writer.execute("INSERT INTO runs (execution_id, run_id, flow, run_date, started_at, status, config_sha256, "
                       "code_version, input_sha256) VALUES ('e2', 'r2', 'daily', DATE '2024-03-06', "
                       "TIMESTAMPTZ '2024-03-07 06:00:00+07', 'running', 'c', 'v', [])")
        blocked = read_in_subprocess(warehouse, "SELECT count(*) FROM runs")
        assert blocked.returncode != 0 and "lock" in blocked.stderr.lower()
        ok = read_in_subprocess(snap, "SELECT count(*) FROM v_runs")
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == "1"
    finally:
        writer.close()
    assert os.access(snap, os.R_OK)
