"""Subscriber CDR features on a hand-built Viettel export (tests/fixtures/cdr/features_viettel.csv).

Run date 2024-03-07, feature window 2024-03-01..07 (local), history 2024-01-31..2024-02-29, short call
< 10 s, short gap < 30 s, night 22:00–06:00 local, burst window 60 min. Every expected value below is
worked out by hand from the fixture rows (VTnnn ids in the comments).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from transforms.cdr import ingest_cdr_file
from transforms.features import compute_features, plan_passes
from transforms.numbers import NumberingTables
from transforms.readers import sha256_file
from transforms.warehouse import connect, run_folder

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "cdr" / "features_viettel.csv"
RUN_DATE = date(2024, 3, 7)
A1, A2, A3, A9 = 84961000001, 84961000002, 84961000003, 84912000009


def _with_buckets(settings, buckets: int):
    cdr = settings.run.cdr.model_copy(update={"buckets": buckets})
    return settings.model_copy(update={"run": settings.run.model_copy(update={"cdr": cdr})})


def _lake(settings, tmp_path: Path, buckets: int) -> tuple[object, Path]:
    s = _with_buckets(settings, buckets)
    lake = tmp_path / f"lake{buckets}"
    result = ingest_cdr_file(FIXTURE, "viettel", s, NumberingTables.from_settings(s), lake, sha256_file(FIXTURE))
    assert (result.rows_read, result.rows_rejected, result.rows_duplicate) == (20, 0, 0)
    return s, lake


def _warehouse(s, tmp_path: Path, name: str):
    con = connect(tmp_path / f"{name}.duckdb", s.run.duckdb.model_copy(update={"temp_directory": tmp_path / "tmp"}))
    run_folder(con, "schema")
    return con


def _features(con) -> dict[int, dict]:
    cur = con.execute("SELECT * FROM cdr_subscriber_features WHERE run_date = $d ORDER BY msisdn_int", {"d": RUN_DATE})
    names = [d[0] for d in cur.description]
    return {row[2]: dict(zip(names, row)) for row in cur.fetchall()}


@pytest.fixture(scope="module")
def computed(settings, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("features")
    s, lake = _lake(settings, tmp, 8)
    con = _warehouse(s, tmp, "wh")
    stats = compute_features(con, s, RUN_DATE, lake, "run-1")
    yield con, stats, s, lake, tmp
    con.close()


def test_only_own_subscribers_with_outgoing_events_get_rows(computed):
    con, stats, *_ = computed
    rows = _features(con)
    # A9 (VinaPhone prefix) appears only as the caller on a terminating leg (VT019): not a Viettel subscriber.
    assert sorted(rows) == [A1, A2, A3]
    assert stats.subscribers == {"viettel": 3}
    assert stats.passes == 3  # buckets 1, 2, 3 hold A1, A2, A3 (84961000001 % 8 = 1 ...)


def test_a1_every_feature_by_hand(computed):
    con, *_ = computed
    f = _features(con)[A1]
    expected = {
        "carrier": "viettel",
        "window_days": 7,
        # in window: VT001..VT008 (VT001 is 1 March 00:10 local = 29 Feb 17:10 UTC: still inside);
        # VT009/VT010 are history, VT011 before history, VT012 after the run date.
        "calls_out": 7,                      # VT001-006, VT008
        "sms_out": 1,                        # VT007
        "distinct_callees": 6,               # ...106, 101, 102, 103, 104, 105
        "calls_answered": 5,                 # durations 30, 5, 120, 3, 60
        "calls_short": 2,                    # 5 s and 3 s
        "calls_unanswered": 2,               # VT003, VT006
        "short_call_share": 2 / 5,
        "unanswered_share": 2 / 7,
        "night_events": 3,                   # 00:10, 23:30, 00:30 LOCAL (none is night in UTC)
        "night_share": 3 / 8,
        # 09:00:00, 09:00:20, 09:30:00, 09:59:59 are within 60 min; 10:00:00 is exactly 60 min after
        # 09:00:00, so the window ending 10:00:00 again holds 4, never 5.
        "max_calls_burst": 4,
        # idle gaps: VT003 starts 15 s after VT002 ended (09:00:05) -> short; VT006 starts 2 s before VT005
        # ended (10:00:02) -> overlapping, short; the others wait minutes or days.
        "short_gaps": 2,
        "short_gap_share": 2 / 6,
        # history pairs (A1,101) and (A1,103): VT002, VT004, VT005 go to known numbers; 102 was last
        # called on 15 Jan (VT011), before the 30-day history, so VT003 is to a new number — and VT006,
        # 102 again, is not: it was contacted at VT003. New: VT001 (106), VT003 (102), VT007, VT008.
        "events_to_new": 4,
        "new_callee_share": 4 / 8,
        # inbound in window: VT013 (23:59:59 on the run date), VT015, VT019 calls and VT016 SMS; VT014 at
        # 00:00 on 8 March local (17:00 UTC on the 7th) is after the window.
        "calls_in": 3,
        "sms_in": 1,
        "in_out_ratio": 3 / 7,
        "distinct_cells": 2,
        "distinct_imeis": 2,
        "imei_changed": True,                # new handset on 6 March (VT008)
        "imei_max_subscribers": 1,           # VT019's handset is A1's own (terminating leg), not A9's
        "out_duration_s": 218,
        "first_event_at": datetime(2024, 2, 29, 17, 10, tzinfo=UTC),
        "last_event_at": datetime(2024, 3, 5, 17, 30, tzinfo=UTC),
        "run_id": "run-1",
    }
    got = {k: f[k] for k in expected}
    for k in ("first_event_at", "last_event_at"):
        got[k] = got[k].astimezone(UTC)
    assert got == expected  # shares are the same IEEE divisions in DuckDB and Python: exact


def test_a2_edges_of_the_window_and_ties(computed):
    con, *_ = computed
    f = _features(con)[A2]
    assert {k: f[k] for k in (
        "calls_out", "sms_out", "distinct_callees", "calls_answered", "calls_short", "calls_unanswered",
        "night_events", "max_calls_burst", "short_gaps", "events_to_new", "calls_in", "distinct_cells",
        "distinct_imeis", "imei_changed", "imei_max_subscribers", "out_duration_s",
    )} == {
        "calls_out": 3,             # VT013, VT015, VT017 (VT014 is 8 March local)
        "sms_out": 1,               # VT016
        "distinct_callees": 2,      # A1 and ...101
        "calls_answered": 1,
        "calls_short": 0,           # 15 s is not short
        "calls_unanswered": 2,
        "night_events": 1,          # 23:59:59 local
        "max_calls_burst": 2,       # 12:00:00 and 12:00:10
        "short_gaps": 1,            # VT017 starts while VT015 (until 12:00:15) is still up
        "events_to_new": 2,         # no history: the first event to A1 (VT015) and to ...101 (VT017)
        "calls_in": 0,
        "distinct_cells": 2,        # 452-04-00003 (numeric key) and CELL-X9 (hashed text)
        "distinct_imeis": 1,
        "imei_changed": False,
        "imei_max_subscribers": 2,  # handset ...033 is also A3's (another bucket)
        "out_duration_s": 15,
    }
    assert f["short_call_share"] == 0.0
    assert f["unanswered_share"] == 2 / 3
    assert f["night_share"] == 1 / 4
    assert f["short_gap_share"] == 1 / 2
    assert f["new_callee_share"] == 2 / 4
    assert f["in_out_ratio"] == 0.0


def test_a3_single_call_has_no_gap_share_and_no_cell_is_no_cell(computed):
    con, *_ = computed
    f = _features(con)[A3]
    assert (f["calls_out"], f["max_calls_burst"], f["short_gaps"], f["short_gap_share"]) == (1, 1, 0, None)
    # VT020 is an SMS without cell or handset: it counts as an event, not as a cell or an IMEI
    assert (f["sms_out"], f["distinct_callees"], f["distinct_cells"], f["distinct_imeis"]) == (1, 2, 1, 1)
    assert (f["imei_max_subscribers"], f["night_share"], f["new_callee_share"]) == (2, 0.0, 1.0)


def test_rerun_replaces_the_run_date(computed):
    con, _, s, lake, _ = computed
    before = _features(con)
    again = compute_features(con, s, RUN_DATE, lake, "run-1")
    assert again.subscribers == {"viettel": 3}
    assert _features(con) == before
    assert con.execute("SELECT count(*) FROM cdr_subscriber_features").fetchall() == [(3,)]


def test_bucket_count_does_not_change_any_value(computed, settings, tmp_path):
    con, *_ = computed
    s1, lake1 = _lake(settings, tmp_path, 1)
    con1 = _warehouse(s1, tmp_path, "one_bucket")
    compute_features(con1, s1, RUN_DATE, lake1, "run-1")
    assert _features(con1) == _features(con)
    con1.close()


def test_ported_numbers_follow_their_current_carrier(settings, tmp_path):
    s, lake = _lake(settings, tmp_path, 8)
    con = _warehouse(s, tmp_path, "ported")
    ported = [(A9, "+84912000009", "0912000009", "vinaphone", "viettel"),   # ported in: its calls are Viettel's
              (A3, "+84961000003", "0961000003", "viettel", "mobifone")]    # ported away before the run date
    for n, e164, nat, prefix_carrier, carrier in ported:
        con.execute(
            "INSERT INTO stg_ported VALUES ($n, $e, $nat, $pc, $c, TIMESTAMPTZ '2024-02-01 00:00:00+07', DATE '2024-02-01', 'p.csv', 'x', 2, 'r')",
            {"n": n, "e": e164, "nat": nat, "pc": prefix_carrier, "c": carrier},
        )
    compute_features(con, s, RUN_DATE, lake, "run-1")
    rows = _features(con)
    assert sorted(rows) == [A9, A1, A2]
    assert (rows[A9]["calls_out"], rows[A9]["distinct_callees"]) == (1, 1)
    con.close()


def test_plan_reads_only_the_window_and_history_days(computed):
    _, _, s, lake, _ = computed
    passes = {p.bucket: p for p in plan_passes(s, RUN_DATE, lake)}
    a1 = passes[1]
    days = sorted({Path(f).parent.parent.name for f in a1.files})
    # A1's days, plus 4 March: A9 (84912000009 % 8 = 1) shares the bucket through its terminating leg
    assert days == ["day=2024-03-01", "day=2024-03-04", "day=2024-03-05", "day=2024-03-06"]
    assert sorted({Path(f).parent.parent.name for f in a1.history_files}) == ["day=2024-02-20", "day=2024-02-29"]
    assert all("cdr_inbound" in f for f in a1.inbound_files) and a1.inbound_files
