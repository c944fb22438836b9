"""The rule engine: config rules compiled onto the day's signals with DuckDB expression trees.

Rules are data (``config/rules.toml``). They are compiled to DuckDB expression nodes — columns and
constants — so neither rule values nor input data are ever pasted into SQL text. A rule naming a feature
the signals do not have is a configuration error naming the rule and the feature. Exclusions run after
the rules and beat them; excluded hits stay visible with the exclusion that stopped them.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from datetime import date
from functools import reduce
from pathlib import Path

import duckdb
import polars as pl
from duckdb import ColumnExpression, ConstantExpression, Expression, FunctionExpression

from transforms.config import ConfigError, Rule, Settings
from transforms.faults import kill_point
from transforms.numbers import NumberingTables, normalise_numbers
from transforms.warehouse import run_model

SIGNALS_TABLE = "signals_today"
HITS_TABLE = "rule_hits"
CDR_FEATURES_TABLE = "cdr_subscriber_features"
_KEYS = {"run_date", "carrier", "msisdn_int", "window_days", "run_id", "first_event_at", "last_event_at"}

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
    """All conditions of a rule must hold (a NULL feature never matches)."""
    parts = [_OPS[c.op](ColumnExpression(c.feature), ConstantExpression(c.value)) for c in rule.when]
    return reduce(operator.and_, parts)


def _evidence(rule: Rule, cdr_features: set[str]) -> tuple[Expression, Expression]:
    """A JSON object of every feature the rule named, and the name=value text of its CDR features."""
    names = list(dict.fromkeys(c.feature for c in rule.when))
    as_json = FunctionExpression("json_object", *[x for n in names for x in (ConstantExpression(n), ColumnExpression(n))])
    cdr = [n for n in names if n in cdr_features]
    if not cdr:
        return as_json, ConstantExpression(None).cast(duckdb.sqltype("VARCHAR"))
    pairs = [FunctionExpression("concat", ConstantExpression(f"{n}="), ColumnExpression(n)) for n in cdr]
    return as_json, FunctionExpression("concat_ws", ConstantExpression(";"), *pairs)


def cdr_feature_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(con.table(CDR_FEATURES_TABLE).columns) - _KEYS


def evaluate_rules(con: duckdb.DuckDBPyConnection, rules: Sequence[Rule], run_date: date, run_id: str) -> dict[str, int]:
    """Insert one row per (subscriber, rule) that fires; returns hits per rule."""
    signals = con.table(SIGNALS_TABLE)
    validate_rules(rules, signals.columns)
    cdr_features = cdr_feature_names(con)
    hits: dict[str, int] = {}
    for rule in rules:
        evidence, cdr_evidence = _evidence(rule, cdr_features)
        fired = signals.filter(compile_predicate(rule)).select(
            ConstantExpression(run_date).alias("run_date"),
            ConstantExpression(run_id).alias("run_id"),
            ColumnExpression("msisdn_int"),
            ColumnExpression("carrier"),
            ConstantExpression(rule.id).alias("rule_id"),
            ConstantExpression(rule.action).alias("action"),
            ConstantExpression(rule.priority).alias("priority"),
            ConstantExpression(float(rule.score)).alias("score"),
            ConstantExpression(rule.legal_basis).alias("legal_basis"),
            evidence.alias("evidence"),
            cdr_evidence.alias("cdr_evidence"),
            ConstantExpression(None).cast(duckdb.sqltype("VARCHAR")).alias("excluded_by"),
        )
        fired.insert_into(HITS_TABLE)
        hits[rule.id] = len(fired.fetchall())
    return hits


def protected_numbers_frame(settings: Settings, tables: NumberingTables) -> pl.DataFrame:
    listed = pl.DataFrame({"number": [n.number for n in settings.protected.numbers]}, schema={"number": pl.String})
    return (
        normalise_numbers(listed, "number", tables, prefix="p_")
        .filter(pl.col("p_e164_int").is_not_null())
        .select(pl.col("p_e164_int").alias("msisdn_int"))
    )


def read_allowlist(path: Path | None, tables: NumberingTables) -> pl.DataFrame:
    """Verified enterprise numbers (CSV with an ``msisdn`` column); a bad number is an error, not a skip."""
    empty = pl.DataFrame(schema={"msisdn_int": pl.Int64})
    if path is None:
        return empty
    if not path.is_file():
        raise ConfigError(f"allowlist file {path} does not exist")
    raw = pl.read_csv(path, infer_schema=False)
    if "msisdn" not in raw.columns:
        raise ConfigError(f"{path}: expected a column named msisdn, found {raw.columns}")
    norm = normalise_numbers(raw.with_row_index("line", offset=2), "msisdn", tables, prefix="a_")
    bad = norm.filter(pl.col("a_e164_int").is_null())
    if bad.height:
        first = bad.row(0, named=True)
        raise ConfigError(f"{path}, line {first['line']}: column msisdn: {first['msisdn']!r} is not a phone number")
    return norm.select(pl.col("a_e164_int").alias("msisdn_int"))


def check_rules_at_startup(con: duckdb.DuckDBPyConnection, settings: Settings) -> None:
    """Fail the run before any stage when a rule names a feature the signals do not have.

    The signals model run for a day with no data yields its full column list at almost no cost.
    """
    params = {"run_date": date(1900, 1, 1), "run_id": "", "tz": settings.run.timezone,
              "cooldown_days": settings.exclusions.cooldown_days}
    run_model(con, "flags/subscriber_signals", params)
    validate_rules(settings.rules, con.table(SIGNALS_TABLE).columns)


def flag_run_date(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_date: date,
    run_id: str,
    *,
    allowlist: Path | None = None,
) -> dict[str, int]:
    """Replace the run date's hits and candidates; returns hits per rule."""
    tables = NumberingTables.from_settings(settings)
    params = {
        "run_date": run_date,
        "run_id": run_id,
        "tz": settings.run.timezone,
        "due_days": settings.due_days.in_action_order(),
        "cooldown_days": settings.exclusions.cooldown_days,
    }
    con.register("protected_numbers", protected_numbers_frame(settings, tables))
    con.register("allowlist_numbers", read_allowlist(allowlist or settings.allowlist_file(), tables))
    try:
        run_model(con, "flags/clear_run_date", params)
        run_model(con, "flags/subscriber_signals", params)
        hits = evaluate_rules(con, settings.rules, run_date, run_id)
        run_model(con, "flags/exclusions", params)
        run_model(con, "flags/candidates", params)
        kill_point("flag.candidates")  # inside the caller's transaction, nothing committed yet
    finally:
        con.unregister("protected_numbers")
        con.unregister("allowlist_numbers")
    return hits
