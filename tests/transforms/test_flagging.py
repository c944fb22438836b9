from datetime import date

import duckdb
import pytest

from transforms.config import ConfigError, Rule
from transforms.flagging import compile_predicate, evaluate_rules, validate_rules
from transforms.warehouse import run_folder, run_model

D = date(2024, 3, 5)


def rule(id_: str, action: str, priority: int, *conds: tuple[str, str, float], score: float = 1.0) -> Rule:
    return Rule(
        id=id_, description=id_, action=action, priority=priority, legal_basis=f"basis {id_}", score=score,
        when=[{"feature": f, "op": op, "value": v} for f, op, v in conds],
    )


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    run_folder(c, "schema")
    signals = [  # msisdn_int, reports, distinct_reporters, corroborated
        (84912000001, 5, 4, 3),
        (84912000002, 2, 2, 0),
        (84912000003, 1, 1, 1),
    ]
    for n, r, d, k in signals:
        c.execute(
            "INSERT INTO subscriber_signals VALUES (?, 'rid', ?, ?, ?, 'vinaphone', '091', ?, ?, ?, NULL, NULL)",
            [D, n, f"+{n}", f"0{str(n)[2:]}", r, d, k],
        )
    return c


def test_unknown_feature_names_rule_and_feature(con):
    bad = rule("R_typo", "monitor", 1, ("distinct_reporterz", ">=", 1))
    with pytest.raises(ConfigError, match=r"rule R_typo: unknown feature 'distinct_reporterz'"):
        validate_rules([bad], list(con.table("subscriber_signals").columns))


def test_predicate_is_expression_tree_not_pasted_text():
    r = rule("R", "monitor", 1, ("reports", ">=", 3), ("corroborated_reports", ">", 0))
    assert str(compile_predicate(r)) == '(("reports" >= 3) AND ("corroborated_reports" > 0))'


def test_each_rule_fires_where_it_should(con):
    rules = [
        rule("R_block", "two_way_block", 5, ("distinct_reporters", ">=", 3), ("corroborated_reports", ">=", 2)),
        rule("R_one", "one_way_block", 10, ("distinct_reporters", ">=", 2)),
        rule("R_mon", "monitor", 90, ("reports", ">=", 1)),
    ]
    hits = evaluate_rules(con, rules, D, "rid")
    assert hits == {"R_block": 1, "R_one": 2, "R_mon": 3}


def test_strongest_action_wins_and_reasons_keep_all(con):
    rules = [
        rule("R_mon", "monitor", 90, ("reports", ">=", 1), score=1),
        rule("R_one", "one_way_block", 10, ("distinct_reporters", ">=", 2), score=10),
        rule("R_rev", "reverify", 20, ("reports", ">=", 2), score=3),
    ]
    evaluate_rules(con, rules, D, "rid")
    run_model(con, "flags/candidates", {"run_date": D, "run_id": "rid", "due_days": [0, 1, 5, 0]})
    got = con.execute("SELECT msisdn_int, action, reasons, score, due_by FROM candidates ORDER BY msisdn_int").fetchall()
    assert got == [
        (84912000001, "one_way_block", "R_one;R_rev;R_mon", 14.0, date(2024, 3, 6)),
        (84912000002, "one_way_block", "R_one;R_rev;R_mon", 14.0, date(2024, 3, 6)),
        (84912000003, "monitor", "R_mon", 1.0, D),
    ]


def test_hits_of_other_dates_are_ignored(con):
    r = [rule("R_mon", "monitor", 90, ("reports", ">=", 1))]
    assert evaluate_rules(con, r, date(2024, 3, 4), "rid") == {"R_mon": 0}
