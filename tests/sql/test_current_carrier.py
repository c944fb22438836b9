"""Current carrier of a number on a day: the latest port on or before it, else the prefix; conflicts reported."""

from __future__ import annotations

from datetime import date

import polars as pl

from tests.transforms.test_registry import (  # noqa: F401 - fixtures and builders shared with the lander tests
    _pseudonym_key,
    con,
    ctx,
    land,
    rows,
    subscriber,
    write_ported,
    write_snapshot,
)
from transforms.numbers import normalise_numbers
from transforms.registry import registry_conflicts

VIETTEL_NUMBER = "0961234567"  # 096 is a Viettel prefix


def _carrier_on(con, number_int: int, prefix_carrier: str, day: date) -> str:
    return rows(con, "SELECT carrier_on($n, $p, $d)", {"n": number_int, "p": prefix_carrier, "d": day})[0][0]


def test_viettel_prefix_number_ported_to_mobifone_resolves_to_mobifone(con, ctx, tmp_path):
    land(con, ctx, write_ported(tmp_path, "ported_20240303.csv", [(VIETTEL_NUMBER, "MobiFone", "2024-03-03 10:00:00")]))
    for day, expected in ((date(2024, 3, 2), "viettel"), (date(2024, 3, 3), "mobifone"), (date(2024, 6, 1), "mobifone")):
        assert _carrier_on(con, 84961234567, "viettel", day) == expected
    # the join form every stage uses: numbers with their prefix carrier from the numbering core
    numbers = normalise_numbers(
        pl.DataFrame({"reported": [VIETTEL_NUMBER, "0961234568", "0901234567"]}), "reported", ctx.tables, prefix="n_"
    ).select(pl.col("n_e164_int").alias("msisdn_int"), pl.col("n_carrier").cast(pl.String).alias("prefix_carrier"))
    con.register("numbers", numbers)
    got = rows(
        con,
        "SELECT x.msisdn_int, x.prefix_carrier, coalesce(p.carrier, x.prefix_carrier) FROM numbers x "
        "LEFT JOIN current_carrier_on($d) p ON p.e164_int = x.msisdn_int ORDER BY 1",
        {"d": date(2024, 3, 5)},
    )
    assert got == [(84901234567, "mobifone", "mobifone"), (84961234567, "viettel", "mobifone"), (84961234568, "viettel", "viettel")]
    assert rows(con, "SELECT e164_int, msisdn, original_carrier, carrier, ported_on FROM v_current_carrier") == [
        (84961234567, "+84961234567", "viettel", "mobifone", date(2024, 3, 3))
    ]


def test_latest_port_on_or_before_the_day_wins_in_local_time(con, ctx, tmp_path):
    land(con, ctx, write_ported(tmp_path, "ported_a.csv", [(VIETTEL_NUMBER, "mobifone", "2024-03-02T20:30:00Z")]))
    land(con, ctx, write_ported(tmp_path, "ported_b.csv", [(VIETTEL_NUMBER, "vinaphone", "2024-04-10 08:00:00"),
                                                          (VIETTEL_NUMBER, "viettel", "2024-05-01 08:00:00")]))
    n = 84961234567
    assert _carrier_on(con, n, "viettel", date(2024, 3, 2)) == "viettel"  # 20:30 UTC on 2 March is 3 March in Hà Nội
    assert _carrier_on(con, n, "viettel", date(2024, 3, 3)) == "mobifone"
    assert _carrier_on(con, n, "viettel", date(2024, 4, 9)) == "mobifone"
    assert _carrier_on(con, n, "viettel", date(2024, 4, 10)) == "vinaphone"
    assert _carrier_on(con, n, "viettel", date(2024, 5, 1)) == "viettel"  # ported back home


def test_a_number_in_two_registries_on_one_day_is_a_conflict(con, ctx, tmp_path):
    land(con, ctx, write_ported(tmp_path, "ported_20240303.csv", [(VIETTEL_NUMBER, "mobifone", "2024-03-03 10:00:00")]))
    for carrier, day, snapshot in (
        ("viettel", "20240301", [subscriber(VIETTEL_NUMBER), subscriber("0961000002")]),
        ("mobifone", "20240302", [subscriber("0901000001")]),
        ("viettel", "20240305", [subscriber(VIETTEL_NUMBER), subscriber("0961000002")]),   # not yet removed
        ("mobifone", "20240305", [subscriber(VIETTEL_NUMBER), subscriber("0901000001"), subscriber("0961000002")]),
        ("viettel", "20240306", [subscriber("0961000002")]),
        ("mobifone", "20240306", [subscriber(VIETTEL_NUMBER), subscriber("0901000001")]),
    ):
        assert land(con, ctx, write_snapshot(tmp_path / day, carrier, day, snapshot)).status == "loaded"
    got = rows(con, "SELECT kind, day, msisdn, carriers, expected_carrier FROM v_registry_conflicts ORDER BY day, msisdn")
    assert got == [
        ("registry_overlap", date(2024, 3, 5), "+84961000002", ["mobifone", "viettel"], "viettel"),
        ("registry_overlap", date(2024, 3, 5), "+84961234567", ["mobifone", "viettel"], "mobifone"),
    ]
    assert registry_conflicts(con, date(2024, 3, 4)).height == 0
    assert registry_conflicts(con, date(2024, 3, 6))["msisdn"].to_list() == ["+84961000002", "+84961234567"]


def test_two_ports_at_the_same_instant_are_reported_not_guessed(con, ctx, tmp_path):
    land(con, ctx, write_ported(tmp_path, "ported_x.csv", [(VIETTEL_NUMBER, "vinaphone", "2024-03-03 10:00:00"),
                                                          (VIETTEL_NUMBER, "mobifone", "2024-03-03 10:00:00")]))
    assert rows(con, "SELECT kind, day, msisdn, carriers FROM v_registry_conflicts") == [
        ("port_same_instant", date(2024, 3, 3), "+84961234567", ["mobifone", "vinaphone"])
    ]
    # deterministic meanwhile (by carrier name), never dependent on row order
    assert _carrier_on(con, 84961234567, "viettel", date(2024, 3, 3)) == "mobifone"


def test_macros_and_views_work_on_an_empty_warehouse(con):
    assert rows(con, "SELECT count(*) FROM current_carrier_on(DATE '2024-03-01')") == [(0,)]
    assert rows(con, "SELECT carrier_on(84961234567, 'viettel', DATE '2024-03-01')") == [("viettel",)]
    for view in ("v_current_carrier", "v_registry_conflicts", "v_subscribers_pseudo", "v_subscriber_status_history",
                 "v_registry_check_hits", "v_reverify", "pkg_subscribers"):
        assert rows(con, f"SELECT count(*) FROM {view}") == [(0,)]
