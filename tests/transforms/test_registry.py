"""Registry landers: every row accounted for, versioned history, status on day D, privacy of rejects.

The builders at the top (``subscriber``, ``write_snapshot``, ``write_ported``, ``registry_warehouse``,
``land``) are shared with the tests under ``tests/sql/``.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from transforms.config import Settings
from transforms.ingest import Delivery, IngestContext, Landed, land_delivery, sha256_of
from transforms.numbers import NumberingTables
from transforms.pseudonym import KEY_ENV
from transforms.registry import (
    WITHHELD_RAW,
    land_ported,
    land_subscribers,
    parse_dates,
    snapshot_date_from_name,
)
from transforms.readers import InputError
from transforms.warehouse import connect, run_model

TEST_KEY_HEX = "5e" * 32
REGISTRY_VIEWS = (
    "v_subscribers_pseudo", "pkg_subscribers", "v_subscriber_status_history", "v_current_carrier",
    "v_registry_conflicts", "v_registry_check_hits", "v_reverify",
)
ANALYST_VIEWS = tuple(v for v in REGISTRY_VIEWS if v.startswith("v_"))
LANDERS = {"subscribers": land_subscribers, "ported": land_ported}

_DEFAULT = {
    "msisdn": "0961000001",
    "subscriber_id": "S1",
    "activated_on": "2022-01-10",
    "plan": "prepaid",
    "status": "active",
    "full_name": "Trần Thị Bình",
    "date_of_birth": "1985-04-12",
    "id_type": "cccd",
    "id_number": "079185000001",
    "registration_point": "own_store",
    "kyc_verified": "true",
    "id_issued_on": "2021-05-01",
    "id_issued_place": "Cục Cảnh sát QLHC về TTXH",
    "photo_ref": "store/S1.jpg",
}


def subscriber(msisdn: str, **over: str | None) -> dict[str, str | None]:
    """A subscriber that passes every check on 2024-03-01, with the given fields overridden."""
    row = dict(_DEFAULT, msisdn=msisdn, subscriber_id=f"S{msisdn}", photo_ref=f"store/{msisdn}.jpg")
    row.update(over)
    return row


def write_snapshot(inbox: Path, carrier: str, day: str, rows: list[dict[str, str | None]]) -> Path:
    folder = inbox / "subscribers" / carrier
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"subscribers_{carrier}_{day}.csv"
    columns = list(dict.fromkeys(k for r in rows for k in r)) or list(_DEFAULT)
    pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema={c: pl.String for c in columns}).write_csv(path)
    return path


def write_ported(inbox: Path, name: str, rows: list[tuple[str, str, str]]) -> Path:
    folder = inbox / "ported"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    pl.DataFrame(rows, schema={"msisdn": pl.String, "carrier": pl.String, "ported_at": pl.String}, orient="row").write_csv(path)
    return path


def registry_warehouse() -> duckdb.DuckDBPyConnection:
    """An in-memory warehouse with the ledger, the registry schema and the registry views."""
    con = connect(":memory:")
    run_model(con, "schema/000_ledger")
    run_model(con, "schema/030_registry")
    for view in REGISTRY_VIEWS:
        run_model(con, f"views/{view}")
    return con


def ingest_context(settings: Settings, run_id: str = "run-test") -> IngestContext:
    return IngestContext(settings, NumberingTables.from_settings(settings), run_id, Path("/nonexistent-lake"))


def land(con: duckdb.DuckDBPyConnection, ctx: IngestContext, path: Path) -> Landed:
    kind = "ported" if path.parent.name == "ported" else "subscribers"
    carrier = None if kind == "ported" else path.parent.name
    return land_delivery(con, Delivery(path, kind, carrier, sha256_of(path), path.stat().st_size), ctx, LANDERS)


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[tuple]:
    return con.execute(sql, params or {}).fetchall()


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, TEST_KEY_HEX)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return registry_warehouse()


@pytest.fixture
def ctx(settings: Settings) -> IngestContext:
    return ingest_context(settings)


# --------------------------------------------------------------------------------------------- accounting


def test_every_row_is_accepted_or_rejected_with_a_reason(con, ctx, tmp_path):
    path = write_snapshot(
        tmp_path, "viettel", "20240301",
        [
            subscriber("0961000001"),
            subscriber("0961000002", full_name=None, date_of_birth="31/02/1990", id_number=None),  # lands: checks find it
            subscriber("abc"),
            subscriber("0961000004", plan="weekly"),
            subscriber("0961000005", status="suspended"),
            subscriber("0961000006", registration_point="kiosk"),
            subscriber("0961000007", kyc_verified="maybe"),
            subscriber("0961000008", activated_on="2022-13-45"),
            subscriber("0961000009", subscriber_id=None),
            subscriber("0961000001", subscriber_id="again"),
            subscriber("0961000010", plan=" Postpaid ", status="One-way blocked", registration_point="EKYC", kyc_verified="0"),
        ],
    )
    landed = land(con, ctx, path)
    assert (landed.status, landed.rows_read, landed.rows_accepted, landed.rows_rejected) == ("loaded", 11, 3, 8)
    got = rows(con, "SELECT source_line, reason, detail FROM rejects ORDER BY source_line")
    assert got == [
        (4, "invalid_number", "column msisdn: expected a Vietnamese mobile number"),
        (5, "bad_value", "column plan: expected one of prepaid, postpaid"),
        (6, "bad_value", "column status: expected one of active, one_way_blocked, two_way_blocked, terminated"),
        (7, "bad_value", "column registration_point: expected one of own_store, agent, online, ekyc"),
        (8, "bad_value", "column kyc_verified: expected true or false"),
        (9, "bad_date", "column activated_on: expected a date like 2024-03-05 or 05/03/2024"),
        (10, "missing_value", "column subscriber_id: a value is required"),
        (11, "duplicate_id", "column msisdn: the number already appeared earlier in this snapshot"),
    ]
    assert rows(con, "SELECT rows_read, rows_accepted, rows_rejected FROM ingest_log") == [(11, 3, 8)]
    landed_rows = rows(
        con,
        "SELECT msisdn, plan, status, registration_point, kyc_verified, full_name, date_of_birth, id_number, malformed_fields "
        "FROM registry_subscribers ORDER BY msisdn",
    )
    assert landed_rows == [
        ("+84961000001", "prepaid", "active", "own_store", True, "Trần Thị Bình", date(1985, 4, 12), "079185000001", []),
        ("+84961000002", "prepaid", "active", "own_store", True, None, None, None, ["date_of_birth"]),
        ("+84961000010", "postpaid", "one_way_blocked", "ekyc", False, "Trần Thị Bình", date(1985, 4, 12), "079185000001", []),
    ]


def test_rejects_never_copy_personal_data(con, ctx, tmp_path):
    path = write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001", plan="weekly", full_name="Hồ Văn Riêng"),
                                                             subscriber("0961000003")])
    with path.open("a", encoding="utf-8") as fh:
        fh.write("0961000002,S2,2022-01-10,prepaid,active,Đỗ Thị Kín,1970-01-02,cccd,079170999999\n")  # too few fields
    landed = land(con, ctx, path)
    assert (landed.rows_read, landed.rows_accepted, landed.rows_rejected) == (3, 1, 2)
    got = rows(con, "SELECT source_line, reason, raw FROM rejects ORDER BY source_line")
    assert got == [(2, "bad_value", "msisdn=0961000001; subscriber_id=S0961000001"), (4, "field_count", WITHHELD_RAW)]
    dump = str(rows(con, "SELECT * FROM rejects"))
    for secret in ("Hồ Văn Riêng", "Đỗ Thị Kín", "1970-01-02", "079170999999", "079185000001", "1985-04-12"):
        assert secret not in dump


def test_snapshot_date_comes_from_the_file_name(tmp_path):
    assert snapshot_date_from_name(Path("subscribers_viettel_20240305.csv")) == date(2024, 3, 5)
    assert snapshot_date_from_name(Path("subscribers_viettel_20240305.csv.gz")) == date(2024, 3, 5)
    with pytest.raises(InputError, match=r"cannot tell the snapshot date: expected the file name to end in _YYYYMMDD"):
        snapshot_date_from_name(Path("subscribers_viettel.csv"))
    with pytest.raises(InputError, match=r"snapshot date '20240231' in the file name is not a calendar date"):
        snapshot_date_from_name(Path("subscribers_viettel_20240231.csv"))


def test_a_file_without_a_date_fails_clearly_and_lands_nothing(con, ctx, tmp_path):
    path = write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001")])
    undated = path.with_name("subscribers_viettel_latest.csv")
    path.rename(undated)
    landed = land(con, ctx, undated)
    assert landed.status == "failed"
    assert str(undated) in landed.error and "_YYYYMMDD" in landed.error
    assert rows(con, "SELECT count(*) FROM registry_subscribers") == [(0,)]
    assert rows(con, "SELECT status FROM ingest_log") == [("failed",)]


def test_a_file_naming_another_carrier_is_refused(con, ctx, tmp_path):
    path = write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001")])
    wrong = tmp_path / "subscribers" / "mobifone"
    wrong.mkdir(parents=True)
    moved = path.rename(wrong / path.name)
    landed = land(con, ctx, moved)
    assert landed.status == "failed"
    assert "names carrier 'viettel' but the file is in the 'mobifone' folder" in landed.error


def test_parquet_snapshot_with_typed_columns_lands(con, ctx, tmp_path):
    folder = tmp_path / "subscribers" / "viettel"
    folder.mkdir(parents=True)
    path = folder / "subscribers_viettel_20240301.parquet"
    frame = pl.DataFrame([subscriber("0961000001")]).with_columns(
        pl.col("activated_on", "date_of_birth", "id_issued_on").str.to_date(),
        pl.col("kyc_verified") == "true",
    )
    frame.write_parquet(path)
    landed = land(con, ctx, path)
    assert (landed.rows_read, landed.rows_accepted, landed.rows_rejected) == (1, 1, 0)
    assert rows(con, "SELECT activated_on, date_of_birth, kyc_verified FROM registry_subscribers") == [
        (date(2022, 1, 10), date(1985, 4, 12), True)
    ]


# --------------------------------------------------------------------------------------------- history


def _three_snapshots(con, ctx, tmp_path) -> None:
    a, b, c, d = "0961000001", "0961000002", "0961000003", "0961000004"
    for day, snapshot in (
        ("20240301", [subscriber(a), subscriber(b), subscriber(c)]),
        ("20240305", [subscriber(a, status="one_way_blocked"), subscriber(b), subscriber(d)]),
        ("20240310", [subscriber(a, status="two_way_blocked"), subscriber(b), subscriber(d, status="terminated")]),
    ):
        assert land(con, ctx, write_snapshot(tmp_path, "viettel", day, snapshot)).status == "loaded"


def _status_on(con, day: date) -> dict[str, tuple[str, date]]:
    got = rows(con, "SELECT msisdn, status, as_of_snapshot FROM subscriber_status_on($d)", {"d": day})
    return {m: (s, a) for m, s, a in got}


def test_status_on_day_d_across_three_snapshots(con, ctx, tmp_path):
    _three_snapshots(con, ctx, tmp_path)
    s1, s2, s3 = date(2024, 3, 1), date(2024, 3, 5), date(2024, 3, 10)
    assert _status_on(con, date(2024, 2, 29)) == {}
    assert _status_on(con, s1) == {"+84961000001": ("active", s1), "+84961000002": ("active", s1), "+84961000003": ("active", s1)}
    assert _status_on(con, date(2024, 3, 4)) == _status_on(con, s1)
    assert _status_on(con, s2) == {
        "+84961000001": ("one_way_blocked", s2), "+84961000002": ("active", s2), "+84961000004": ("active", s2),
    }
    expected_s3 = {
        "+84961000001": ("two_way_blocked", s3), "+84961000002": ("active", s3), "+84961000004": ("terminated", s3),
    }
    assert _status_on(con, date(2024, 3, 9)) == {k: (v[0], s2) for k, v in _status_on(con, s2).items()}
    assert _status_on(con, s3) == expected_s3
    assert _status_on(con, date(2024, 4, 1)) == expected_s3


def test_status_transitions_and_versions_are_kept_compactly(con, ctx, tmp_path):
    _three_snapshots(con, ctx, tmp_path)
    got = rows(
        con,
        "SELECT msisdn, previous_snapshot, changed_on, from_status, to_status FROM v_subscriber_status_history "
        "ORDER BY changed_on, msisdn",
    )
    assert got == [
        ("+84961000001", date(2024, 3, 1), date(2024, 3, 5), "active", "one_way_blocked"),
        ("+84961000003", date(2024, 3, 1), date(2024, 3, 5), "active", None),
        ("+84961000004", date(2024, 3, 1), date(2024, 3, 5), None, "active"),
        ("+84961000001", date(2024, 3, 5), date(2024, 3, 10), "one_way_blocked", "two_way_blocked"),
        ("+84961000004", date(2024, 3, 5), date(2024, 3, 10), "active", "terminated"),
    ]
    # the unchanged subscriber is one version across three full snapshots
    assert rows(con, "SELECT valid_from, valid_to FROM registry_subscribers WHERE msisdn = '+84961000002'") == [
        (date(2024, 3, 1), None)
    ]
    assert rows(con, "SELECT count(*) FROM registry_subscribers") == [(7,)]
    assert rows(con, "SELECT snapshot_date, rows_accepted FROM registry_snapshots ORDER BY 1") == [
        (date(2024, 3, 1), 3), (date(2024, 3, 5), 3), (date(2024, 3, 10), 3),
    ]


def test_a_corrected_file_for_the_latest_day_replaces_it(con, ctx, tmp_path):
    _three_snapshots(con, ctx, tmp_path)
    fixed = write_snapshot(tmp_path / "again", "viettel", "20240310", [subscriber("0961000001", status="one_way_blocked"),
                                                                        subscriber("0961000002")])
    landed = land(con, ctx, fixed)
    assert landed.status == "loaded" and landed.extra["replaced_snapshot"] == 1
    assert _status_on(con, date(2024, 3, 10)) == {
        "+84961000001": ("one_way_blocked", date(2024, 3, 10)), "+84961000002": ("active", date(2024, 3, 10)),
    }
    assert _status_on(con, date(2024, 3, 5))["+84961000004"] == ("active", date(2024, 3, 5))
    assert rows(con, "SELECT msisdn, from_status, to_status FROM registry_status_changes WHERE changed_on = DATE '2024-03-10'") == [
        ("+84961000004", "active", None)
    ]
    assert rows(con, "SELECT count(*) FROM registry_snapshots") == [(3,)]


def test_an_older_snapshot_after_a_newer_one_is_refused(con, ctx, tmp_path):
    _three_snapshots(con, ctx, tmp_path)
    late = write_snapshot(tmp_path / "late", "viettel", "20240302", [subscriber("0961000001")])
    landed = land(con, ctx, late)
    assert landed.status == "failed"
    assert "snapshot 2024-03-02 of viettel is older than its latest landed snapshot 2024-03-10" in landed.error
    assert rows(con, "SELECT count(*) FROM registry_snapshots") == [(3,)]


# --------------------------------------------------------------------------------------------- privacy


def _hmac(id_number: str) -> str:
    return hmac.new(bytes.fromhex(TEST_KEY_HEX), id_number.encode(), hashlib.sha256).hexdigest()


def test_person_ref_is_the_keyed_hmac_of_the_normalised_id(con, ctx, tmp_path):
    path = write_snapshot(
        tmp_path, "viettel", "20240301",
        [subscriber("0961000001"), subscriber("0961000002", id_number="079 185.000-001"), subscriber("0961000003", id_number=None)],
    )
    land(con, ctx, path)
    got = dict(rows(con, "SELECT msisdn, person_ref FROM registry_subscribers"))
    assert got["+84961000001"] == got["+84961000002"] == _hmac("079185000001")
    assert got["+84961000003"] is None
    assert got["+84961000001"] != hashlib.sha256(b"079185000001").hexdigest()
    assert rows(con, "SELECT msisdn, numbers_on_document FROM v_subscribers_pseudo ORDER BY msisdn") == [
        ("+84961000001", 2), ("+84961000002", 2), ("+84961000003", None),
    ]


def test_a_new_key_recomputes_every_stored_pseudonym(con, ctx, tmp_path, monkeypatch):
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001")]))
    new_key = "a7" * 32
    monkeypatch.setenv(KEY_ENV, new_key)
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240302", [subscriber("0961000001"), subscriber("0961000002")]))
    expected = hmac.new(bytes.fromhex(new_key), b"079185000001", hashlib.sha256).hexdigest()
    assert rows(con, "SELECT DISTINCT person_ref FROM registry_subscribers") == [(expected,)]


def test_analyst_views_hold_no_name_birth_date_or_id_number(con, ctx, tmp_path, settings):
    from transforms.registry import run_subscriber_checks

    people = [
        subscriber("0961000001", full_name="Vương Thị Mật", date_of_birth="1979-08-23", id_number="001179004242"),
        subscriber("0961000002", full_name="Lạc Văn Ẩn", date_of_birth="2030-01-01", id_number="001179004242", kyc_verified="false"),
        subscriber("0961000003", full_name="Ninh Thị Giấu", date_of_birth="1960-02-03", id_type="cmnd", id_number="381234567",
                   id_issued_on="2001-01-01"),
    ]
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240301", people))
    run_subscriber_checks(con, settings, date(2024, 3, 1), "run-test")
    assert rows(con, "SELECT count(*) FROM v_registry_check_hits") != [(0,)]
    secrets = ["Vương Thị Mật", "Lạc Văn Ẩn", "Ninh Thị Giấu", "1979-08-23", "2030-01-01", "1960-02-03",
               "001179004242", "381234567", "23/08/1979", "19790823"]
    for view in ANALYST_VIEWS:
        text = str(rows(con, f"SELECT CAST(COLUMNS(*) AS VARCHAR) FROM {view}"))
        for secret in secrets:
            assert secret not in text, f"{view} shows {secret!r}"
    assert rows(con, "SELECT full_name FROM pkg_subscribers ORDER BY msisdn") == [(p["full_name"],) for p in people]


# --------------------------------------------------------------------------------------------- ported


def test_ported_rows_are_accepted_or_rejected_with_reasons(con, ctx, tmp_path):
    path = write_ported(
        tmp_path, "ported_20240305.csv",
        [
            ("0961234567", "MobiFone", "2024-03-03 10:00:00"),
            ("+84 97 123 4567", "vinaphone", "2024-03-02T20:30:00Z"),
            ("0901234567", "Đông Dương Telecom", "05/03/2024"),
            ("12345", "mobifone", "2024-03-03"),
            ("0961234568", "beeline", "2024-03-03"),
            ("0961234569", "viettel", "yesterday"),
        ],
    )
    landed = land(con, ctx, path)
    assert (landed.rows_read, landed.rows_accepted, landed.rows_rejected) == (6, 3, 3)
    assert rows(con, "SELECT msisdn, prefix_carrier, carrier, ported_on FROM stg_ported ORDER BY source_line") == [
        ("+84961234567", "viettel", "mobifone", date(2024, 3, 3)),
        ("+84971234567", "viettel", "vinaphone", date(2024, 3, 3)),  # 20:30 UTC is 03:30 next day local
        ("+84901234567", "mobifone", "itel", date(2024, 3, 5)),
    ]
    assert rows(con, "SELECT source_line, reason FROM rejects ORDER BY source_line") == [
        (5, "invalid_number"), (6, "unknown_carrier"), (7, "bad_timestamp"),
    ]


# --------------------------------------------------------------------------------------------- dates

EXAMPLES = int(os.environ.get("SUBFLAG_FUZZ_EXAMPLES", "300"))


def test_dates_in_every_accepted_form():
    values = pl.Series(["2024-03-05", " 05/03/2024 ", "5/3/2024", "2024/03/05", "05-03-2024", "05.03.2024", "20240305",
                        "2024-03-05 00:00:00", "2024-03-05T08:00:00", "1990-02-30", "31/02/1990", "03/05/24", "", None])
    assert parse_dates(values).to_list() == [date(2024, 3, 5)] * 9 + [None] * 5


@pytest.mark.fuzz
@hsettings(max_examples=EXAMPLES, deadline=None)
@given(day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)),
       form=st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d", "%Y-%m-%d 00:00:00"]),
       pad=st.sampled_from(["", " ", "\t"]))
def test_any_rendered_date_parses_back(day, form, pad):
    text = pad + day.strftime(form) + pad
    assert parse_dates(pl.Series([text, "2024-01-01"])).to_list() == [day, date(2024, 1, 1)]


def test_a_rejected_row_keeps_the_numbers_previous_record(con, ctx, tmp_path):
    a, b, c = "0961000001", "0961000002", "0961000003"
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240301", [subscriber(a), subscriber(b)]))
    landed = land(con, ctx, write_snapshot(tmp_path, "viettel", "20240302",
                                           [subscriber(a, plan="weekly"), subscriber(c)]))  # a unreadable, b gone
    assert (landed.rows_accepted, landed.rows_rejected, landed.extra["held"]) == (1, 1, 1)
    assert _status_on(con, date(2024, 3, 2)) == {
        "+84961000001": ("active", date(2024, 3, 2)), "+84961000003": ("active", date(2024, 3, 2)),
    }
    assert rows(con, "SELECT msisdn, from_status, to_status FROM registry_status_changes ORDER BY msisdn") == [
        ("+84961000002", "active", None), ("+84961000003", None, "active"),
    ]


def test_a_snapshot_with_no_acceptable_row_is_refused(con, ctx, tmp_path):
    land(con, ctx, write_snapshot(tmp_path, "viettel", "20240301", [subscriber("0961000001")]))
    broken = write_snapshot(tmp_path, "viettel", "20240302", [subscriber("0961000001", status="??")])
    landed = land(con, ctx, broken)
    assert landed.status == "failed"
    assert "no row of this full snapshot could be accepted (1 read); refusing to record that every viettel" in landed.error
    assert _status_on(con, date(2024, 3, 2)) == {"+84961000001": ("active", date(2024, 3, 1))}
