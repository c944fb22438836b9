"""The rule engine: config rules compiled onto the signals table with DuckDB expressions.

Rules are data (``config/rules.toml``). They are compiled to DuckDB expression trees — column and constant
nodes — so neither rule values nor input data are ever pasted into SQL text. A rule naming a feature that
the signals table does not have is a configuration error that names the rule and the feature.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import date
from functools import reduce

import duckdb
from duckdb import ColumnExpression, ConstantExpression, Expression

from transforms.config import ConfigError, Rule, Settings
from transforms.warehouse import run_model

SIGNALS_TABLE = "subscriber_signals"
HITS_TABLE = "rule_hits"

_OPS: dict[str, Callable[[Expression, Expression], Expression]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "=": operator.eq,
    "!=": operator.ne,
}


def validate_rules(rules: Sequence[Rule], features: Sequence[str]) -> None:
    """Fail before flagging when a rule names a feature that does not exist."""
    known = set(features)
    for rule in rules:
        for cond in rule.when:
            if cond.feature not in known:
                raise ConfigError(
                    f"config/rules.toml: rule {rule.id}: unknown feature {cond.feature!r}; "
                    f"expected one of {sorted(known)}"
                )


def compile_predicate(rule: Rule) -> Expression:
    """All conditions of a rule must hold (NULL features never match)."""
    parts = [_OPS[c.op](ColumnExpression(c.feature), ConstantExpression(c.value)) for c in rule.when]
    return reduce(operator.and_, parts)


def signal_features(con: duckdb.DuckDBPyConnection) -> list[str]:
    return list(con.table(SIGNALS_TABLE).columns)


def evaluate_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], run_date: date, run_id: str) -> dict[str, int]:
    """Insert one row per (subscriber, rule) that fires on the run date; returns hits per rule."""
    validate_rules(rules, signal_features(con))
    signals = con.table(SIGNALS_TABLE).filter(ColumnExpression("run_date") == ConstantExpression(run_date))
    hits: dict[str, int] = {}
    for rule in rules:
        fired = signals.filter(compile_predicate(rule)).select(
            ColumnExpression("run_date"),
            ConstantExpression(run_id).alias("run_id"),
            ColumnExpression("msisdn_int"),
            ConstantExpression(rule.id).alias("rule_id"),
            ConstantExpression(rule.action).alias("action"),
            ConstantExpression(rule.priority).alias("priority"),
            ConstantExpression(float(rule.score)).alias("score"),
            ConstantExpression(rule.legal_basis).alias("legal_basis"),
        )
        fired.insert_into(HITS_TABLE)
        hits[rule.id] = fired.aggregate("count(*)").fetchall()[0][0]
    return hits


def flag_run_date(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, run_id: str) -> dict[str, int]:
    """Replace the run date's signals, hits and candidates; returns hits per rule."""
    params = {
        "run_date": run_date,
        "run_id": run_id,
        "tz": settings.run.timezone,
        "window_days": settings.run.windows.feature_days,
        "due_days": settings.due_days.in_action_order(),
    }
    run_model(con, "flags/clear_run_date", params)
    run_model(con, "flags/subscriber_signals", params)
    hits = evaluate_rules(con, settings.rules, run_date, run_id)
    run_model(con, "flags/candidates", params)
    return hits
