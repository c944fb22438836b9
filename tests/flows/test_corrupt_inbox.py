"""The daily flow on an inbox mixing good and corrupt entries: the run completes, every good file lands,
every corrupt entry is one failed ledger row naming it, and the summary and the report count them.

Per kind and per corruption, with reruns (no row added) and fixes (lands normally), the same is checked
quickly in tests/transforms/test_ingest.py; this is the one run through Prefect. chmod 000 is left to that
file: as root it would not make a file unreadable.
"""

from __future__ import annotations

import gzip
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from transforms.config import load_config
from transforms.ingest import PROBLEM_KEY_PREFIX, sha256_of
from transforms.simulate import MIN_SUBSCRIBERS, SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)


def _corrupt(inbox: Path) -> dict[Path, str]:
    """Add corrupt entries next to the simulated files; returns each entry and a piece of its expected error."""
    complaints = next((inbox / "complaints").glob("*.csv")).read_bytes()
    crc = bytearray(gzip.compress(complaints + b"KN-extra,2024-03-05 10:00,hotline,0912345678,fraud\n", mtime=0))
    crc[-8] ^= 0xFF
    viettel = next((inbox / "cdr" / "viettel").glob("*.parquet")).read_bytes()
    reports = next((inbox / "reports_5656").glob("*.csv")).read_text(encoding="utf-8").splitlines()
    entries = {
        inbox / "complaints" / "complaints_resent.csv.gz": (bytes(crc), "the gzip data is damaged (CRC check failed"),
        inbox / "cdr" / "viettel" / "cdr_viettel_part2.parquet": (viettel[: len(viettel) // 2],
                                                                  "not a readable Parquet file"),
        inbox / "reports_5656" / "reports_nohdr.csv": ("\n".join(["when,who,what", *reports[1:3]]).encode(),
                                                      "required column 'received_at' is missing"),
        inbox / "ported" / "ported_empty.csv": (b"", "file is empty (0 bytes)"),
        inbox / "requests" / "blank.json": (b"  \n\n", "not valid JSON"),
    }
    for path, (data, _) in entries.items():
        path.write_bytes(data)
    expected = {path: msg for path, (_, msg) in entries.items()}
    folder = inbox / "decisions" / "decisions_20240306.csv"
    folder.mkdir()
    expected[folder] = "a directory where a decisions file was expected"
    reddi = inbox / "subscribers" / "reddi"
    shutil.rmtree(reddi)
    reddi.write_text("the export was written where the carrier folder should be\n", encoding="utf-8")
    expected[reddi] = "a file where the folder subscribers/reddi/ was expected"
    return expected


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness):
    root = tmp_path_factory.mktemp("corrupt")
    inbox = root / "inbox"
    simulate_inbox(SimulationSpec(subscribers=MIN_SUBSCRIBERS, days=1, end_date=RUN_DATE, seed=5), load_config(),
                   inbox, root / "truth")
    good = sorted(p for p in inbox.rglob("*") if p.is_file() and p.parent != inbox / "subscribers" / "reddi")
    corrupt = _corrupt(inbox)
    return root, inbox, good, corrupt


def run(root: Path, inbox: Path):
    from flows.daily import daily_run

    return daily_run(run_date=RUN_DATE, inbox=inbox, warehouse=root / "warehouse.duckdb", lake=root / "lake",
                     out=root / "out")


def ledger(root: Path) -> list[tuple]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute("SELECT sha256, source_file, status, error, rows_read, rows_accepted, rows_rejected "
                           "FROM ingest_log ORDER BY source_file").fetchall()


def test_corrupt_entries_fail_alone_and_the_run_completes(world):
    root, inbox, good, corrupt = world
    summary = run(root, inbox)
    assert summary.files_failed == len(corrupt)
    assert summary.files_new == len(good) + len(corrupt)
    rows = ledger(root)
    loaded = {Path(r[1]) for r in rows if r[2] == "loaded"}
    assert loaded == set(good)
    assert {r[0] for r in rows if r[2] == "loaded"} == {sha256_of(p) for p in good}
    failed = {Path(r[1]): r for r in rows if r[2] == "failed"}
    assert set(failed) == set(corrupt)
    for path, expected in corrupt.items():
        key, source, _, error, *counts = failed[path]
        assert error.startswith(f"{path}") and expected in error, error
        assert counts == [0, 0, 0]
        hashless = path.is_dir() or path.name in ("ported_empty.csv", "reddi")  # nothing to hash: keyed by place
        assert key.startswith(PROBLEM_KEY_PREFIX) == hashless
    report = (summary.out_dir / "report.html").read_text(encoding="utf-8")
    assert all(p.name in report for p in corrupt), "the report's ledger table lists every failed entry"
    assert summary.candidates, "the good files were enough for a normal run"
