"""What a SIGKILL leaves behind is cleaned by the next run, and nothing a live process still uses.

The end-to-end proof is tests/flows/test_crash_recovery.py; these pin the rules it relies on: temp files
and work folders carry their writer's pid and are removed only once that process is gone, and a new
execution closes the journal rows of executions that never recorded an outcome.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb

from transforms import runs
from transforms.cdr import remove_stale_work
from transforms.warehouse import connect, run_folder
from transforms.writers import atomic_path, remove_stale_temps


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(proc.stdout)


def test_stale_temp_of_a_dead_writer_is_removed_and_a_live_one_kept(tmp_path: Path):
    target = tmp_path / "report.html"
    orphan = tmp_path / f".report.html.{dead_pid()}.abc123.tmp"
    orphan_wal = tmp_path / f".report.html.{dead_pid()}.def456.tmp.wal"
    live = tmp_path / f".report.html.{os.getppid()}.xyz789.tmp"  # the parent (pytest's launcher) is alive
    other = tmp_path / ".other.html.1.abc.tmp"
    for p in (orphan, orphan_wal, live, other):
        p.write_bytes(b"half")
    with atomic_path(target) as tmp:  # every atomic write sweeps first
        tmp.write_text("whole")
    assert target.read_text() == "whole"
    assert not orphan.exists() and not orphan_wal.exists()
    assert live.exists() and other.exists()
    assert remove_stale_temps(target) == []


def test_stale_ingest_work_folder_is_removed_and_other_stages_folders_kept(tmp_path: Path):
    work = tmp_path / "_work"
    orphan = work / f"0123456789abcdef-{dead_pid()}"
    live = work / f"0123456789abcdef-{os.getppid()}"
    features = work / "features-2024-03-05"  # the feature stage's folder: not an ingest folder
    for folder in (orphan, live, features):
        folder.mkdir(parents=True)
        (folder / "spool.parquet").write_bytes(b"x")
    assert remove_stale_work(tmp_path) == [orphan]
    assert not orphan.exists() and live.exists() and features.exists()


def test_a_new_execution_closes_earlier_unfinished_executions_of_its_flow_and_date(tmp_path: Path, settings):
    wh = tmp_path / "wh.duckdb"
    with connect(wh, settings.run.duckdb) as con:
        run_folder(con, "schema")
    day, other_day = date(2024, 3, 5), date(2024, 3, 4)
    killed = runs.start(wh, settings, "r1", "daily", day, ["a"])
    elsewhere = runs.start(wh, settings, "r0", "daily", other_day, ["a"])
    intake = runs.start(wh, settings, "r1", "intake", day, ["a"])
    rerun = runs.start(wh, settings, "r1", "daily", day, ["a"])
    with duckdb.connect(str(wh), read_only=True) as con:
        rows = dict((e, (s, err)) for e, s, err in con.execute("SELECT execution_id, status, error FROM runs").fetchall())
    assert rows[killed][0] == "failed" and rows[killed][1].startswith("abandoned") and rerun in rows[killed][1]
    assert rows[elsewhere] == ("running", None)  # another run date
    assert rows[intake] == ("running", None)     # another flow
    assert rows[rerun] == ("running", None)
