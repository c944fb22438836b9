"""Landing files into staging: re-deliveries add nothing, a corrected file adds exactly the corrected row."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from transforms.ingest import IngestContext, sha256_of, discover_deliveries, land_delivery, ledger_mismatches
from transforms.landing import LANDERS
from transforms.numbers import NumberingTables
from transforms.warehouse import run_folder

HEADER = "received_at,reporter,message\n"
ROWS = [
    "2024-03-05 09:15:00,0912345678,V 0812341213 gia danh cong an\n",
    "2024-03-05 10:00:00,0987654321,V(0356789012) lua dao chuyen tien\n",
    "2024-03-05 11:30:00,0901234567,S VIETCOMBANK tai khoan bi khoa\n",
]


@pytest.fixture
def ctx(settings, tmp_path: Path) -> IngestContext:
    return IngestContext(settings, NumberingTables.from_settings(settings), "run-test", tmp_path / "lake")


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    run_folder(c, "schema")
    return c


def land_inbox(con, inbox: Path, ctx: IngestContext, settings) -> list:
    deliveries, problems = discover_deliveries(inbox, settings.carrier_slugs())
    assert problems == []
    known = {r[0] for r in con.execute("SELECT sha256 FROM ingest_log WHERE status = 'loaded'").fetchall()}
    return [land_delivery(con, d, ctx, LANDERS) for d in deliveries if d.sha256 not in known]


def count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def test_corrected_redelivery_adds_exactly_the_corrected_row(con, ctx, settings, tmp_path: Path):
    folder = tmp_path / "inbox" / "reports_5656"
    folder.mkdir(parents=True)
    (folder / "reports_20240305.csv").write_text(HEADER + "".join(ROWS), encoding="utf-8")
    first = land_inbox(con, tmp_path / "inbox", ctx, settings)
    assert [(x.rows_read, x.rows_accepted, x.rows_duplicate) for x in first] == [(3, 3, 0)]
    assert count(con, "stg_complaints") == 3

    # the same bytes under another name: known by hash, nothing lands
    (folder / "reports_20240305_again.csv").write_text(HEADER + "".join(ROWS), encoding="utf-8")
    assert land_inbox(con, tmp_path / "inbox", ctx, settings) == []

    # a corrected delivery (one reported number fixed): only that row is new, the others are recognised
    corrected = ROWS[:1] + [ROWS[1].replace("0356789012", "0356789013")] + ROWS[2:]
    (folder / "reports_20240305.csv").write_text(HEADER + "".join(corrected), encoding="utf-8")
    second = land_inbox(con, tmp_path / "inbox", ctx, settings)
    assert [(x.rows_read, x.rows_accepted, x.rows_duplicate) for x in second] == [(3, 1, 2)]
    assert count(con, "stg_complaints") == 4
    new = con.execute("SELECT reported_national, source_sha256 FROM stg_complaints WHERE reported_national = '0356789013'").fetchall()
    assert new == [("0356789013", sha256_of(folder / "reports_20240305.csv"))]
    assert ledger_mismatches(con).height == 0


def test_bad_rows_are_rejected_with_file_line_and_reason(con, ctx, settings, tmp_path: Path):
    folder = tmp_path / "inbox" / "reports_5656"
    folder.mkdir(parents=True)
    body = HEADER + ROWS[0] + "not a time,0912345678,V 0812341213 x\n" + "2024-03-05 09:15:00,0912345678,hello\n"
    (folder / "r.csv").write_text(body, encoding="utf-8")
    (landed,) = land_inbox(con, tmp_path / "inbox", ctx, settings)
    assert (landed.rows_read, landed.rows_accepted, landed.rows_rejected) == (3, 1, 2)
    rejects = con.execute("SELECT source_line, reason FROM rejects ORDER BY source_line").fetchall()
    assert rejects == [(3, "bad_timestamp"), (4, "unknown_command")]
    assert ledger_mismatches(con).height == 0


def test_unreadable_file_is_recorded_failed_and_others_land(con, ctx, settings, tmp_path: Path):
    folder = tmp_path / "inbox" / "reports_5656"
    folder.mkdir(parents=True)
    (folder / "a_bad.csv").write_text("when,who,what\n1,2,3\n", encoding="utf-8")
    (folder / "b_good.csv").write_text(HEADER + ROWS[0], encoding="utf-8")
    results = land_inbox(con, tmp_path / "inbox", ctx, settings)
    assert [r.status for r in results] == ["failed", "loaded"]
    assert "received_at" in results[0].error and "a_bad.csv" in results[0].error
    assert con.execute("SELECT status FROM ingest_log ORDER BY source_file").fetchall() == [("failed",), ("loaded",)]
    assert count(con, "stg_complaints") == 1
