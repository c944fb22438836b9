"""Case history and the per-rule outcome view: what the compliance team decided about each rule's picks."""

from datetime import UTC, date, datetime

import duckdb
import pytest

from transforms.warehouse import run_folder


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    run_folder(c, "schema")
    run_folder(c, "views")
    return c


def hit(con, day: date, n: int, rule: str, action: str, excluded: str | None = None) -> None:
    con.execute(
        "INSERT INTO rule_hits VALUES (?, 'r', ?, 'viettel', ?, ?, 1, 1.0, 'basis', '{}', NULL, ?)",
        [day, n, rule, action, excluded],
    )


def candidate(con, day: date, n: int, action: str, rank: int) -> None:
    con.execute(
        "INSERT INTO candidates (run_date, run_id, msisdn_int, msisdn, msisdn_national, carrier, prefix, action, "
        "action_rank, reasons, score, distinct_reporters, reports, corroborated_reports, legal_basis) "
        "VALUES (?, 'r', ?, '+' || ?, '0', 'viettel', '03', ?, ?, 'R', 1, 1, 1, 0, 'b')",
        [day, n, str(n), action, rank],
    )


def decide(con, n: int, when: datetime, decision: str) -> None:
    con.execute(
        "INSERT INTO stg_decisions VALUES (?, '+' || ?, ?, ?, 'case-1', NULL, 'f', 's', 2, 'r')",
        [n, str(n), when, decision],
    )


def test_rule_outcomes_count_later_decisions(con):
    d1, d2 = date(2024, 3, 4), date(2024, 3, 5)
    hit(con, d1, 1, "R_A", "one_way_block")
    hit(con, d2, 1, "R_A", "one_way_block")          # same subscriber again: counted once
    hit(con, d1, 2, "R_A", "one_way_block")
    hit(con, d1, 3, "R_A", "one_way_block")
    hit(con, d1, 4, "R_A", "one_way_block", "allowlist")  # excluded: not put forward
    hit(con, d1, 2, "R_B", "monitor")
    decide(con, 1, datetime(2024, 3, 6, 9, tzinfo=UTC), "two_way_blocked")
    decide(con, 2, datetime(2024, 3, 6, 9, tzinfo=UTC), "cleared")
    decide(con, 3, datetime(2024, 3, 1, 9, tzinfo=UTC), "cleared")  # before it fired: not an outcome
    rows = con.execute("SELECT * FROM v_rule_outcomes").fetchall()
    assert rows == [
        ("R_A", "one_way_block", 3, 1, 1, 1, 0.5),
        ("R_B", "monitor", 1, 0, 1, 0, 0.0),
    ]


def test_case_history_across_runs_with_decision(con):
    candidate(con, date(2024, 3, 4), 7, "monitor", 4)
    candidate(con, date(2024, 3, 5), 7, "one_way_block", 2)
    decide(con, 7, datetime(2024, 3, 6, 9, tzinfo=UTC), "one_way_blocked")
    (row,) = con.execute(
        "SELECT first_flagged_on, last_flagged_on, runs_flagged, strongest_action, last_action, actions_over_runs, decision "
        "FROM v_cases"
    ).fetchall()
    assert row == (date(2024, 3, 4), date(2024, 3, 5), 2, "one_way_block", "one_way_block",
                   "2024-03-04:monitor;2024-03-05:one_way_block", "one_way_blocked")
