"""Complaint joins: corroboration against the CDR lake, per-number complaint features, prefix hot-spots.

CDRs: tests/fixtures/cdr/corroboration_viettel.csv (Viettel lake only). Run date 2024-03-07, window
2024-03-01..07, corroboration ±60 min around occurred_at, else the 72 h before received_at.
N1 = 0961000011 and N2 = 0961000012 are on-net (Viettel); N3 = 0901000013 is MobiFone (no lake).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from transforms.cdr import ingest_cdr_file
from transforms.features import compute_complaint_features
from transforms.numbers import NumberingTables, normalise_numbers
from transforms.readers import sha256_file
from transforms.warehouse import connect, run_folder

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "cdr" / "corroboration_viettel.csv"
RUN_DATE = date(2024, 3, 7)
HCM = ZoneInfo("Asia/Ho_Chi_Minh")
N1, N2, N3 = 84961000011, 84961000012, 84901000013

STG_COLUMNS = (
    "complaint_id", "channel", "received_at", "occurred_at", "reporter_raw", "reporter_e164", "reporter_e164_int",
    "reporter_carrier", "reported_raw", "reported_e164", "reported_e164_int", "reported_national", "reported_kind",
    "reported_prefix3", "reported_prefix5", "reported_carrier", "reported_legacy", "reported_protected", "kind",
    "category", "content", "source_file", "source_sha256", "source_line", "row_sha256", "run_id",
)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=HCM)


# (id, received_at, occurred_at, reported, reporter, category, kind)
COMPLAINTS = [
    ("C1", "2024-03-05 12:00", "2024-03-05 10:30", "0961000011", "0971000021", "fraud", "call"),      # CV01 at 10:00 -> yes
    ("C2", "2024-03-05 12:05", "2024-03-05 11:01", "0961000011", "0971000021", "fraud", "call"),      # 10:00 is 61 min before -> no
    ("C3", "2024-03-06 08:00", None, "0961000012", "0971000022", "spam_call", "call"),                # N2 never called -> spoofing
    ("C4", "2024-03-07 10:00", None, "0961000011", "0971000023", "spam_sms", "sms"),                  # CV02 71 h before -> yes
    ("C5", "2024-03-07 10:00", None, "0961000011", "0971000024", "impersonation", "call"),            # CV03 73 h before -> no
    ("C6", "2024-03-06 09:00", "2024-03-06 08:30", "0901000013", "0912000025", "fraud", "call"),      # no CDRs of either -> unknown
    ("C7", "2024-03-06 14:00", None, "0961000011", None, "other", "call"),                            # no reporter -> unknown
    ("C8", "2024-03-06 15:00", None, "0692348560", "0971000021", "impersonation", "call"),            # protected -> excluded
    ("C9", "2024-03-06 16:00", "2024-03-06 15:50", "0901000013", "0961000026", "fraud", "call"),      # seen in the reporter's lake
    ("B1", "2024-02-05 09:00", None, "0961000012", "0971000022", "spam_call", "call"),                # baseline (28 days before)
    ("B2", "2024-02-10 09:00", None, "0961000012", "0971000022", "spam_call", "call"),
    ("B3", "2024-02-15 09:00", None, "0961000012", "0971000022", "spam_call", "call"),
    ("B4", "2024-02-20 09:00", None, "0961000012", "0971000022", "spam_call", "call"),
    ("C10", "2024-03-08 09:00", None, "0961000011", "0971000021", "fraud", "call"),                   # after the run date
]


def complaints_frame(tables: NumberingTables) -> pl.DataFrame:
    raw = pl.DataFrame(
        {
            "complaint_id": [c[0] for c in COMPLAINTS],
            "received_at": [local(c[1]) for c in COMPLAINTS],
            "occurred_at": [local(c[2]) if c[2] else None for c in COMPLAINTS],
            "reported_raw": [c[3] for c in COMPLAINTS],
            "reporter_raw": [c[4] for c in COMPLAINTS],
            "category": [c[5] for c in COMPLAINTS],
            "kind": [c[6] for c in COMPLAINTS],
        },
        schema_overrides={"received_at": pl.Datetime("us", "Asia/Ho_Chi_Minh"), "occurred_at": pl.Datetime("us", "Asia/Ho_Chi_Minh")},
    )
    frame = normalise_numbers(normalise_numbers(raw, "reported_raw", tables, prefix="reported_"), "reporter_raw", tables, prefix="reporter_")
    return frame.with_columns(
        pl.lit("hotline").alias("channel"),
        pl.col("reported_kind").cast(pl.String),
        pl.lit(None, dtype=pl.String).alias("content"),
        pl.lit("complaints.csv").alias("source_file"),
        pl.lit("sha-complaints").alias("source_sha256"),
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("source_line"),
        pl.concat_str(pl.lit("row-"), pl.col("complaint_id")).alias("row_sha256"),
        pl.lit("intake").alias("run_id"),
    ).select(STG_COLUMNS)


@pytest.fixture(scope="module")
def joined(settings, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("corroboration")
    tables = NumberingTables.from_settings(settings)
    lake = tmp / "lake"
    ingest_cdr_file(FIXTURE, "viettel", settings, tables, lake, sha256_file(FIXTURE))
    con = connect(tmp / "wh.duckdb", settings.run.duckdb.model_copy(update={"temp_directory": tmp / "tmp"}))
    run_folder(con, "schema")
    con.register("incoming", complaints_frame(tables))
    con.execute("INSERT INTO stg_complaints BY NAME SELECT * FROM incoming")
    con.unregister("incoming")
    stats = compute_complaint_features(con, settings, RUN_DATE, lake, "run-1")
    yield con, stats, settings, lake
    con.close()


def _rows(con, sql: str, params: dict | None = None) -> list[tuple]:
    return con.execute(sql, params or {}).fetchall()


def test_each_complaint_is_corroborated_refuted_or_unknown(joined):
    con, *_ = joined
    got = _rows(con, "SELECT complaint_id, on_net, checkable, corroborated, spoofing_signal, evidence_record_id "
                     "FROM complaint_corroboration WHERE run_date = $d ORDER BY complaint_id", {"d": RUN_DATE})
    assert got == [
        ("C1", True, True, True, False, "CV01"),     # reported number called the reporter at T-30 min
        ("C2", True, True, False, True, None),       # no such call in ±60 min of occurred_at: on-net -> spoofing signal
        ("C3", True, True, False, True, None),       # on-net number never contacted the reporter
        ("C4", True, True, True, False, "CV02"),     # SMS 71 h before received_at
        ("C5", True, True, False, True, None),       # the only call was 73 h before: outside the 72 h
        ("C6", False, False, None, False, None),     # neither party's carrier has CDRs here
        ("C7", True, False, None, False, None),      # no reporter number to look for
        ("C9", False, True, True, False, "CV05"),    # off-net caller, seen in the reporter's (Viettel) lake
    ]
    anchor = _rows(con, "SELECT anchor_kind, window_from, window_to FROM complaint_corroboration WHERE complaint_id = 'C4'")
    assert [(a, f.astimezone(UTC), t.astimezone(UTC)) for a, f, t in anchor] == [
        ("received_at", datetime(2024, 3, 4, 3, tzinfo=UTC), datetime(2024, 3, 7, 3, tzinfo=UTC))
    ]


def test_per_number_complaint_features(joined):
    con, *_ = joined
    cur = con.execute("SELECT * FROM complaint_subscriber_features WHERE run_date = $d ORDER BY msisdn_int", {"d": RUN_DATE})
    names = [d[0] for d in cur.description]
    rows = {r[2]: dict(zip(names, r)) for r in cur.fetchall()}
    assert sorted(rows) == [N3, N1, N2]
    n1 = rows[N1]
    assert {k: n1[k] for k in names if k not in ("run_date", "first_reported_at", "last_reported_at")} == {
        "carrier": "viettel", "msisdn_int": N1, "window_days": 7,
        "reports": 5, "distinct_reporters": 3,                      # C1, C2, C4, C5, C7; reporters R1, R3, R4
        "reports_call": 4, "reports_sms": 1,
        "reports_impersonation": 1, "reports_fraud": 2, "reports_spam_call": 0, "reports_spam_sms": 1,
        "reports_harassment": 0, "reports_other": 1,
        "corroborated_reports": 2, "uncorroborated_reports": 2, "spoofing_signals": 2,
        "callees": 4, "complained_callees": 3, "callee_complaint_share": 0.75,  # R1, R3, R4 of R1, R3, R4, ...28
        "run_id": "run-1",
    }
    assert n1["first_reported_at"].astimezone(UTC) == datetime(2024, 3, 5, 5, tzinfo=UTC)
    assert n1["last_reported_at"].astimezone(UTC) == datetime(2024, 3, 7, 3, tzinfo=UTC)
    assert (rows[N2]["reports"], rows[N2]["spoofing_signals"], rows[N2]["callees"], rows[N2]["callee_complaint_share"]) == (1, 1, 0, None)
    n3 = rows[N3]
    assert (n3["carrier"], n3["reports"], n3["corroborated_reports"], n3["uncorroborated_reports"], n3["callee_complaint_share"]) == (
        "mobifone", 2, 1, 0, 1.0)


def test_prefix_hotspots_against_the_trailing_baseline(joined):
    con, *_ = joined
    got = _rows(con, "SELECT carrier, prefix_len, prefix, reports, distinct_numbers, distinct_reporters, baseline_reports, "
                     "expected_reports, ratio, watched, is_hotspot FROM v_prefix_hotspots WHERE run_date = $d "
                     "ORDER BY carrier, prefix_len, prefix", {"d": RUN_DATE})
    assert got == [
        ("mobifone", 3, "090", 2, 1, 2, 0, 0.0, None, False, False),      # 2 < min_reports 3
        ("mobifone", 5, "09010", 2, 1, 2, 0, 0.0, None, False, False),
        ("viettel", 3, "096", 6, 2, 4, 4, 1.0, 6.0, False, True),          # 4 baseline reports * 7/28 = 1 expected
        ("viettel", 5, "09610", 6, 2, 4, 4, 1.0, 6.0, False, True),
    ]


def test_export_model_orders_hotspots_first(joined):
    from transforms.warehouse import query_model

    con, *_ = joined
    frame = query_model(con, "features/prefix_hotspots_export", {"run_date": RUN_DATE})
    assert frame.select("carrier", "prefix", "is_hotspot").rows() == [
        ("viettel", "096", True), ("viettel", "09610", True), ("mobifone", "090", False), ("mobifone", "09010", False),
    ]


def test_watched_prefix_is_marked(joined, tmp_path):
    con, _, settings, lake = joined
    watched = settings.model_copy(update={"carriers": [
        c.model_copy(update={"watched_prefixes": [*c.watched_prefixes, "096"]}) if c.slug == "viettel" else c
        for c in settings.carriers]})
    compute_complaint_features(con, watched, RUN_DATE, lake, "run-2")
    assert _rows(con, "SELECT prefix, watched FROM prefix_hotspots WHERE run_date = $d AND carrier = 'viettel' ORDER BY prefix",
                 {"d": RUN_DATE}) == [("096", True), ("09610", False)]
    # re-running the date replaced the rows instead of adding to them
    assert _rows(con, "SELECT count(*), min(run_id) FROM complaint_corroboration WHERE run_date = $d", {"d": RUN_DATE}) == [(8, "run-2")]
    compute_complaint_features(con, settings, RUN_DATE, lake, "run-1")


def test_summary_counts(joined):
    _, stats, *_ = joined
    assert (stats.complaints, stats.reported_numbers, stats.corroborated, stats.uncorroborated, stats.unchecked,
            stats.spoofing_signals, stats.hotspots) == (8, 3, 3, 3, 2, 3, 2)
    assert stats.contacts == 5  # CV01-CV05: every event whose caller is a reported number


def test_without_a_lake_nothing_is_checkable(settings, tmp_path):
    tables = NumberingTables.from_settings(settings)
    con = connect(tmp_path / "wh.duckdb", settings.run.duckdb.model_copy(update={"temp_directory": tmp_path / "tmp"}))
    run_folder(con, "schema")
    con.register("incoming", complaints_frame(tables))
    con.execute("INSERT INTO stg_complaints BY NAME SELECT * FROM incoming")
    stats = compute_complaint_features(con, settings, RUN_DATE, tmp_path / "no-lake", "run-1")
    assert (stats.complaints, stats.corroborated, stats.uncorroborated, stats.spoofing_signals, stats.unchecked) == (8, 0, 0, 0, 8)
    con.close()
