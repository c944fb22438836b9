from datetime import date

import duckdb
import polars as pl
import pytest

from transforms.config import ConfigError, Rule
from transforms.flagging import compile_predicate, evaluate_rules, validate_rules
from transforms.warehouse import run_folder, run_model

D = date(2024, 3, 5)
PARAMS = {"run_date": D, "run_id": "rid", "due_days": [0, 1, 5, 0], "tz": "Asia/Ho_Chi_Minh", "cooldown_days": 30}


def rule(id_: str, action: str, priority: int, *conds: tuple[str, str, object], score: float = 1.0) -> Rule:
    return Rule(
        id=id_, description=id_, action=action, priority=priority, legal_basis=f"basis {id_}", score=score,
        when=[{"feature": f, "op": op, "value": v} for f, op, v in conds],
    )


def signals(**overrides: list) -> pl.DataFrame:
    """Three reported subscribers; columns as sql/flags/subscriber_signals.sql makes them (those used here)."""
    base = {
        "msisdn_int": [84912000001, 84912000002, 84912000003],
        "carrier": ["vinaphone"] * 3,
        "reports": [5, 2, 1],
        "distinct_reporters": [4, 2, 1],
        "corroborated_reports": [3, 0, 1],
        "calls_out": [150, 3, 0],
        "new_callee_share": [0.95, 0.1, None],
        "registry_status": ["active", "active", "active"],
        "last_decision": [None, None, None],
        "suspend_requested": [False, False, False],
        "cleared_in_cooldown": [False, False, False],
        "new_reporters_since_decision": [0, 0, 0],
    }
    base.update(overrides)
    return pl.DataFrame(base, schema_overrides={"last_decision": pl.String})


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    run_folder(c, "schema")
    return c


def load(con: duckdb.DuckDBPyConnection, frame: pl.DataFrame, protected=(), allow=()) -> None:
    """The real signals model on an empty warehouse gives the full schema; the frame fills some columns."""
    run_model(con, "flags/subscriber_signals", PARAMS)
    frame = frame.with_columns(
        ("+" + pl.col("msisdn_int").cast(pl.String)).alias("msisdn"),
        ("0" + pl.col("msisdn_int").cast(pl.String).str.slice(2)).alias("msisdn_national"),
    )
    con.execute("INSERT INTO signals_today BY NAME SELECT * FROM frame")
    con.register("protected_numbers", pl.DataFrame({"msisdn_int": list(protected)}, schema={"msisdn_int": pl.Int64}))
    con.register("allowlist_numbers", pl.DataFrame({"msisdn_int": list(allow)}, schema={"msisdn_int": pl.Int64}))


def test_unknown_feature_names_rule_and_feature():
    bad = rule("R_typo", "monitor", 1, ("distinct_reporterz", ">=", 1))
    with pytest.raises(ConfigError, match=r"rule R_typo: unknown feature 'distinct_reporterz'"):
        validate_rules([bad], ["distinct_reporters"])


def test_predicate_is_expression_tree_not_pasted_text():
    r = rule("R", "monitor", 1, ("reports", ">=", 3), ("corroborated_reports", ">", 0))
    assert str(compile_predicate(r)) == '(("reports" >= 3) AND ("corroborated_reports" > 0))'


def test_each_action_fires_where_it_should_with_evidence(con):
    load(con, signals())
    rules = [
        rule("R_two", "two_way_block", 5, ("distinct_reporters", ">=", 3), ("new_callee_share", ">=", 0.9)),
        rule("R_one", "one_way_block", 10, ("distinct_reporters", ">=", 2)),
        rule("R_rev", "reverify", 20, ("corroborated_reports", "=", 1)),
        rule("R_mon", "monitor", 90, ("reports", ">=", 1)),
    ]
    assert evaluate_rules(con, rules, D, "rid") == {"R_two": 1, "R_one": 2, "R_rev": 1, "R_mon": 3}
    ev = con.execute("SELECT evidence::VARCHAR, cdr_evidence FROM rule_hits WHERE rule_id = 'R_two'").fetchall()
    assert ev == [('{"distinct_reporters":4,"new_callee_share":0.95}', "new_callee_share=0.95")]


def test_null_feature_never_matches(con):
    load(con, signals())
    assert evaluate_rules(con, [rule("R", "monitor", 1, ("new_callee_share", "<", 0.5))], D, "rid") == {"R": 1}


def test_strongest_action_wins_and_reasons_keep_all(con):
    load(con, signals())
    rules = [
        rule("R_mon", "monitor", 90, ("reports", ">=", 1), score=1),
        rule("R_one", "one_way_block", 10, ("distinct_reporters", ">=", 2), score=10),
        rule("R_rev", "reverify", 20, ("reports", ">=", 2), score=3),
    ]
    evaluate_rules(con, rules, D, "rid")
    run_model(con, "flags/exclusions", PARAMS)
    run_model(con, "flags/candidates", PARAMS)
    got = con.execute("SELECT msisdn_int, action, reasons, score, due_by FROM candidates ORDER BY msisdn_int").fetchall()
    assert got == [
        (84912000001, "one_way_block", "R_one;R_rev;R_mon", 14.0, date(2024, 3, 6)),
        (84912000002, "one_way_block", "R_one;R_rev;R_mon", 14.0, date(2024, 3, 6)),
        (84912000003, "monitor", "R_mon", 1.0, D),
    ]


@pytest.mark.parametrize(
    ("overrides", "protected", "allow", "expected"),
    [
        ({}, [84912000001], [], "protected"),
        ({}, [], [84912000001], "allowlist"),
        ({"registry_status": ["terminated", "active", "active"]}, [], [], "already_blocked"),
        ({"last_decision": ["two_way_blocked", None, None]}, [], [], "already_blocked"),
        ({"cleared_in_cooldown": [True, False, False]}, [], [], "cleared_cooldown"),
        ({"cleared_in_cooldown": [True, False, False], "new_reporters_since_decision": [2, 0, 0]}, [], [], None),
        # an authority order is not stopped by the allowlist or a cooldown
        ({"suspend_requested": [True, False, False]}, [], [84912000001], None),
        ({"suspend_requested": [True, False, False], "cleared_in_cooldown": [True, False, False]}, [], [], None),
        # ... but a protected number is never a candidate
        ({"suspend_requested": [True, False, False]}, [84912000001], [], "protected"),
    ],
)
def test_exclusions_beat_rules_and_stay_visible(con, overrides, protected, allow, expected):
    load(con, signals(**overrides), protected, allow)
    evaluate_rules(con, [rule("R_one", "one_way_block", 10, ("distinct_reporters", ">=", 2))], D, "rid")
    run_model(con, "flags/exclusions", PARAMS)
    run_model(con, "flags/candidates", PARAMS)
    hit = con.execute("SELECT excluded_by FROM rule_hits WHERE msisdn_int = 84912000001").fetchall()
    assert hit == [(expected,)]
    cands = {r[0] for r in con.execute("SELECT msisdn_int FROM candidates").fetchall()}
    assert (84912000001 in cands) is (expected is None)
    assert 84912000002 in cands


def test_a_rule_typo_fails_at_startup_naming_rule_and_feature(con, settings):
    from transforms.flagging import check_rules_at_startup

    run_folder(con, "views")
    check_rules_at_startup(con, settings)  # the shipped policy names only features that exist
    typo = settings.model_copy(update={"rules": [*settings.rules, rule("R_typo", "monitor", 99, ("calls_outt", ">=", 1))]})
    with pytest.raises(ConfigError, match=r"rule R_typo: unknown feature 'calls_outt'"):
        check_rules_at_startup(con, typo)
