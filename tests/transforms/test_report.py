"""The run report on a hand-built warehouse: exact figures, every chart, escaping, no clock, determinism."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest

from transforms.report import CHARTS, collect_report_data, render_report, summary_tables, write_report
from transforms.warehouse import connect, run_folder

RUN_DATE = date(2024, 3, 5)
RUN_ID = "20240305-test"
HOSTILE = "<script>alert('pwned')</script>"
HOSTILE_FILE = "<img src=x onerror=alert(1)>.csv"
HOSTILE_AUTHORITY = '"><svg onload=alert(2)>'


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A wall-clock time in Vietnam on March ``day`` 2024."""
    return datetime(2024, 3, day, hour, minute, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


def insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    frame = pl.DataFrame(rows)
    con.register("incoming", frame)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
    finally:
        con.unregister("incoming")


def complaint(cid: str, received: datetime, national: str | None, *, carrier: str | None = "viettel", kind: str = "call",
              category: str = "fraud", content: str = "lừa đảo", protected: bool = False, reported_kind: str = "mobile") -> dict:
    e164_int = int("84" + national[1:]) if national and reported_kind == "mobile" else None
    return {
        "complaint_id": cid, "channel": "sms5656", "received_at": received, "reporter_e164": f"+8491{cid[-1] * 7}",
        "reported_e164_int": e164_int, "reported_national": national, "reported_kind": reported_kind,
        "reported_prefix3": national[:3] if national else None, "reported_carrier": carrier, "reported_protected": protected,
        "kind": kind, "category": category, "content": content, "source_file": "reports.csv", "source_sha256": "s1",
        "row_sha256": f"row-{cid}",
        "run_id": RUN_ID,
    }


@pytest.fixture()
def warehouse(tmp_path, settings):
    path = tmp_path / "warehouse.duckdb"
    con = connect(path, settings.run.duckdb)
    run_folder(con, "schema")
    run_folder(con, "views")
    yield con, path
    con.close()


@pytest.fixture()
def filled(warehouse):
    con, path = warehouse
    insert(con, "stg_complaints", [
        complaint("c1", local(5, 9), "0321234567", content=HOSTILE + " chuyển tiền"),
        complaint("c2", local(5, 10), "0321234567", kind="sms", category="spam_sms"),
        complaint("c3", local(4, 23, 30), "0321234567"),
        complaint("c4", local(4, 8), "0812345678", carrier="vinaphone", category="impersonation"),
        complaint("c5", local(5, 11), "0692348560", carrier=None, protected=True, reported_kind="landline",
                  category="impersonation", content="Công an gọi " + HOSTILE),
        complaint("c6", local(2, 8), "0321234567"),     # before the 3-day window of this test's config
        complaint("c7", local(6, 1), "0321234567"),     # after the run date (local), not in the report
    ])
    insert(con, "candidates", [
        {"run_date": RUN_DATE, "run_id": RUN_ID, "msisdn_int": 84321234567, "msisdn": "+84321234567",
         "msisdn_national": "0321234567", "carrier": "viettel", "prefix": "032", "action": "two_way_block", "action_rank": 1,
         "reasons": "R10;R90", "score": 100.0, "distinct_reporters": 3, "reports": 3, "corroborated_reports": 2,
         "legal_basis": "basis"},
        {"run_date": RUN_DATE, "run_id": RUN_ID, "msisdn_int": 84812345678, "msisdn": "+84812345678",
         "msisdn_national": "0812345678", "carrier": "vinaphone", "prefix": "081", "action": "monitor", "action_rank": 4,
         "reasons": "R90", "score": 1.0, "distinct_reporters": 1, "reports": 1, "corroborated_reports": 0,
         "legal_basis": "basis"},
    ])
    hit = {"run_date": RUN_DATE, "run_id": RUN_ID, "carrier": "viettel", "priority": 10, "score": 1.0,
           "legal_basis": "basis", "evidence": "{}"}
    insert(con, "rule_hits", [
        {**hit, "msisdn_int": 84321234567, "rule_id": "R10", "action": "two_way_block", "excluded_by": None},
        {**hit, "msisdn_int": 84321234567, "rule_id": "R90", "action": "monitor", "excluded_by": None},
        {**hit, "msisdn_int": 84399999999, "rule_id": "R10", "action": "two_way_block", "excluded_by": "allowlist"},
        {**hit, "msisdn_int": 84398888888, "rule_id": "R10", "action": "two_way_block", "excluded_by": "protected"},
    ])
    ledger = {"source_kind": "reports_5656", "bytes": 10, "rows_duplicate": 0, "ingested_at": datetime(2026, 1, 1, tzinfo=UTC)}
    insert(con, "ingest_log", [
        {**ledger, "sha256": "s1", "source_file": f"inbox/reports_5656/{HOSTILE_FILE}", "rows_read": 9, "rows_accepted": 7,
         "rows_rejected": 2, "status": "loaded", "error": None, "run_id": RUN_ID},
        {**ledger, "sha256": "s0", "source_file": "inbox/reports_5656/old.csv", "rows_read": 4, "rows_accepted": 3,
         "rows_rejected": 1, "status": "loaded", "error": None, "run_id": "earlier"},
    ])
    insert(con, "rejects", [
        {"sha256": "s1", "source_file": HOSTILE_FILE, "source_line": 3, "raw": HOSTILE, "reason": "no_source", "run_id": RUN_ID},
        {"sha256": "s1", "source_file": HOSTILE_FILE, "source_line": 4, "raw": "x", "reason": "empty", "run_id": RUN_ID},
        {"sha256": "s0", "source_file": "old.csv", "source_line": 2, "raw": "y", "reason": "empty", "run_id": "earlier"},
    ])
    request = {"request_slug": "r", "legal_basis": "Nghị định 49/2017/NĐ-CP", "requested_action": "information",
               "fields": ["subscriber"], "raw_json": "{}", "source_file": "r.json", "run_id": RUN_ID}
    insert(con, "stg_requests", [
        {**request, "request_id": "432/STTTT", "authority": HOSTILE_AUTHORITY, "received_at": local(4, 9),
         "due_at": local(5, 17), "source_sha256": "q1"},                       # overdue at the end of 5 March
        {**request, "request_id": "433/STTTT", "authority": "Sở TT&TT", "received_at": local(5, 9),
         "due_at": local(7, 17), "source_sha256": "q2"},                       # due later: pending
        {**request, "request_id": "434/STTTT", "authority": "Sở TT&TT", "received_at": local(6, 9),
         "due_at": local(6, 10), "source_sha256": "q3"},                       # received after the run date
    ])
    insert(con, "prefix_hotspots", [
        {"run_date": RUN_DATE, "carrier": "viettel", "prefix_len": 3, "prefix": "032", "reports": 3, "distinct_numbers": 1,
         "distinct_reporters": 3, "baseline_reports": 0, "expected_reports": 0.0, "ratio": None, "watched": True,
         "is_hotspot": True, "run_id": RUN_ID},
    ])
    return con, path


@pytest.fixture()
def three_day_settings(settings):
    windows = settings.run.windows.model_copy(update={"feature_days": 3})
    return settings.model_copy(update={"run": settings.run.model_copy(update={"windows": windows})})


def test_figures_match_the_warehouse(filled, three_day_settings):
    con, _ = filled
    data = collect_report_data(con, three_day_settings, RUN_DATE, RUN_ID)
    assert data.days == ["2024-03-03", "2024-03-04", "2024-03-05"]
    assert data.headline() == {
        "complaints in window": 5, "complaints on run date": 3, "candidates exported": 1, "two-way block": 1,
        "one-way block": 0, "reverify": 0, "monitor (not exported)": 1, "hits stopped by exclusions": 2,
        "spoofing alerts": 1, "prefix hot-spots": 1, "overdue requests": 1, "files landed this run": 1,
        "rows rejected this run": 2,
    }
    per_day = data.complaints.group_by("day", "carrier").agg(pl.col("complaints").sum()).sort("day", "carrier").rows()
    assert per_day == [(date(2024, 3, 4), "viettel", 1), (date(2024, 3, 4), "vinaphone", 1),
                       (date(2024, 3, 5), "protected", 1), (date(2024, 3, 5), "viettel", 2)]
    assert data.heatmap.select("prefix", "day", "complaints", "is_hotspot").rows() == [
        ("032", date(2024, 3, 4), 1, True), ("032", date(2024, 3, 5), 2, True), ("081", date(2024, 3, 4), 1, False)]
    assert data.rule_hits.rows() == [("R10", "two_way_block", "allowlist", 1), ("R10", "two_way_block", "not excluded", 1),
                                     ("R10", "two_way_block", "protected", 1), ("R90", "monitor", "not excluded", 1)]
    assert data.candidates_by_rule.rows() == [("R10", "two_way_block", 1), ("R90", "two_way_block", 1), ("R90", "monitor", 1)]
    assert data.rejects.rows() == [("empty", 1, 2), ("no_source", 1, 1)]
    assert data.requests.select("request_id", "status", "overdue", "hours_overdue").rows() == [
        ("432/STTTT", "overdue", True, 7.0), ("433/STTTT", "pending", False, None)]
    top = data.top_candidates.select("number", "action", "latest_complaint").rows()
    assert top == [("0321234567", "two_way_block", "lừa đảo")]          # c2 at 10:00 is the latest about it
    assert data.spoofing.select("alert_kind", "number", "complaints", "latest_complaint").rows() == [
        ("protected_number", "0692348560", 1, "Công an gọi " + HOSTILE)]


def test_every_chart_is_drawn_and_hostile_text_is_inert(filled, three_day_settings):
    con, _ = filled
    html = render_report(collect_report_data(con, three_day_settings, RUN_DATE, RUN_ID))
    for chart_id in CHARTS:
        assert html.count(f'<svg id="{chart_id}"') == 1, chart_id
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html
    assert "Công an gọi &lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.csv" in html
    assert "&quot;&gt;&lt;svg onload=alert(2)&gt;" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    urls = set(re.findall(r"https?://[^\s\"'<>]+", html))
    assert urls == {"http://www.w3.org/2000/svg"}, "the report must not reference anything outside itself"


def test_empty_warehouse_still_draws_every_chart(warehouse, settings, tmp_path):
    con, _ = warehouse
    path = write_report(con, settings, RUN_DATE, RUN_ID, tmp_path / "out")
    html = path.read_text(encoding="utf-8")
    for chart_id in CHARTS:
        assert f'<svg id="{chart_id}"' in html, chart_id
    assert html.count("no data for this run") == len(CHARTS)


def test_report_bytes_depend_only_on_the_warehouse(filled, three_day_settings, tmp_path):
    con, _ = filled
    first = write_report(con, three_day_settings, RUN_DATE, RUN_ID, tmp_path / "a").read_bytes()
    second = write_report(con, three_day_settings, RUN_DATE, RUN_ID, tmp_path / "b").read_bytes()
    assert first == second
    today = datetime.now(UTC)
    for stamp in {today.strftime("%Y-%m-%d"), today.strftime("%d/%m/%Y"), today.astimezone().strftime("%H:%M")}:
        assert stamp.encode() not in first
    assert (tmp_path / "a" / "2024-03-05" / "report.html").stat().st_mode & 0o777 == 0o600


def test_terminal_summary_carries_figures_not_complaint_text(filled, three_day_settings):
    con, _ = filled
    tables = summary_tables(collect_report_data(con, three_day_settings, RUN_DATE, RUN_ID))
    by_title = {t.title.split(" ")[0]: t for t in tables}
    assert [t.title for t in tables] == ["run figures", "complaints in the 3-day window", "candidates", "rule hits",
                                         "rejected rows", "overdue requests", "spoofing alerts"]
    assert tables[0].rows[:3] == [["complaints in window", "5"], ["complaints on run date", "3"], ["candidates exported", "1"]]
    assert by_title["candidates"].rows == [["viettel", "two_way_block", "1"], ["vinaphone", "monitor", "1"]]
    assert by_title["overdue"].rows == [["432/STTTT", HOSTILE_AUTHORITY, "2024-03-05 17:00", "7.0"]]
    flat = " ".join(" ".join(r) for t in tables for r in t.rows)
    assert "chuyển tiền" not in flat and "Công an gọi" not in flat
