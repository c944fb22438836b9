"""The one small runner between Python and ``sql/``: every SQL model is a file, run by name.

Values reach SQL only as DuckDB prepared parameters (``$name``). The few places DuckDB cannot take a
parameter (a path inside ``CREATE VIEW``) use ``{{ name }}`` placeholders that are rendered as quoted
SQL string literals from values the caller validated (paths from config or the command line), never
from input data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow.parquet as pq

from transforms.config import PROJECT_ROOT, DuckDBSettings

SQL_DIR = PROJECT_ROOT / "sql"

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class ModelError(RuntimeError):
    """A SQL model failed; the message names the model file."""


def connect(path: Path | str, settings: DuckDBSettings | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse with the configured resource limits so large stages spill instead of failing."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    s = settings or DuckDBSettings()
    con.execute(f"SET threads = {int(s.threads)}")
    con.execute("SET memory_limit = $m", {"m": s.memory_limit})
    tmp = Path(s.temp_directory)
    tmp.mkdir(parents=True, exist_ok=True)
    con.execute("SET temp_directory = $t", {"t": str(tmp)})
    con.execute("SET preserve_insertion_order = false")
    con.execute("SET TimeZone = 'UTC'")
    return con


def model_path(name: str) -> Path:
    path = (SQL_DIR / f"{name}.sql").resolve()
    if SQL_DIR.resolve() not in path.parents or not path.is_file():
        raise ModelError(f"no SQL model {name!r} (expected {SQL_DIR / (name + '.sql')})")
    return path


def split_statements(sql: str) -> list[str]:
    """Split a model file on top-level semicolons, respecting quotes and ``--`` comments."""
    out: list[str] = []
    buf: list[str] = []
    i, n = 0, len(sql)
    quote: str | None = None
    while i < n:
        ch = sql[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = None
        elif ch in ("'", '"'):
            quote = ch
            buf.append(ch)
        elif ch == "-" and sql.startswith("--", i):
            j = sql.find("\n", i)
            j = n if j < 0 else j
            buf.append(sql[i:j])
            i = j
            continue
        elif ch == ";":
            out.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    out.append("".join(buf))
    return [s for s in (st.strip() for st in out) if _has_code(s)]


def _has_code(stmt: str) -> bool:
    return any(line.strip() and not line.strip().startswith("--") for line in stmt.splitlines())


def quote_literal(value: str | Path) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def render(sql: str, literals: Mapping[str, str | Path] | None = None) -> str:
    literals = literals or {}

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        if key not in literals:
            raise KeyError(key)
        return quote_literal(literals[key])

    return _TEMPLATE.sub(sub, sql)


def _bind(stmt: str, params: Mapping[str, Any]) -> dict[str, Any]:
    wanted = set(_PARAM.findall(stmt))
    missing = wanted - params.keys()
    if missing:
        raise KeyError(", ".join(sorted(missing)))
    return {k: params[k] for k in wanted}


def run_model(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: Mapping[str, Any] | None = None,
    literals: Mapping[str, str | Path] | None = None,
) -> None:
    """Execute every statement of ``sql/<name>.sql``."""
    path = model_path(name)
    try:
        statements = split_statements(render(path.read_text(encoding="utf-8"), literals))
    except KeyError as exc:
        raise ModelError(f"{path}: no value for template literal {exc}") from exc
    for stmt in statements:
        try:
            con.execute(stmt, _bind(stmt, params or {}))
        except KeyError as exc:
            raise ModelError(f"{path}: no value for parameter ${exc.args[0]}") from exc
        except duckdb.Error as exc:
            raise ModelError(f"{path}: {exc}") from exc


def query_model(
    con: duckdb.DuckDBPyConnection,
    name: str,
    params: Mapping[str, Any] | None = None,
    literals: Mapping[str, str | Path] | None = None,
) -> pl.DataFrame:
    """Run a model whose last statement is a query and return its rows as a polars frame."""
    path = model_path(name)
    statements = split_statements(render(path.read_text(encoding="utf-8"), literals))
    try:
        for stmt in statements[:-1]:
            con.execute(stmt, _bind(stmt, params or {}))
        last = statements[-1]
        return con.sql(last, params=_bind(last, params or {})).pl()
    except KeyError as exc:
        raise ModelError(f"{path}: no value for parameter ${exc.args[0]}") from exc
    except duckdb.Error as exc:
        raise ModelError(f"{path}: {exc}") from exc


def write_model_parquet(
    con: duckdb.DuckDBPyConnection,
    name: str,
    target: Path,
    params: Mapping[str, Any] | None = None,
) -> int:
    """Write a query model's rows to ``target`` (zstd Parquet) and return the row count.

    Written to a ``.tmp`` sibling and renamed, so a killed writer never leaves a readable half file.
    """
    path = model_path(name)
    statements = split_statements(path.read_text(encoding="utf-8"))
    tmp = target.with_name(target.name + ".tmp")
    try:
        for stmt in statements[:-1]:
            con.execute(stmt, _bind(stmt, params or {}))
        last = statements[-1]
        con.sql(last, params=_bind(last, params or {})).write_parquet(str(tmp), compression="zstd")
    except KeyError as exc:
        raise ModelError(f"{path}: no value for parameter ${exc.args[0]}") from exc
    except duckdb.Error as exc:
        raise ModelError(f"{path}: {exc}") from exc
    rows = pq.read_metadata(tmp).num_rows
    tmp.replace(target)
    return rows


def run_folder(con: duckdb.DuckDBPyConnection, folder: str, params: Mapping[str, Any] | None = None) -> list[str]:
    """Run every model in ``sql/<folder>/`` in file-name order (schema and views are written to be re-runnable)."""
    names = sorted(p.relative_to(SQL_DIR).with_suffix("").as_posix() for p in (SQL_DIR / folder).glob("*.sql"))
    for name in names:
        run_model(con, name, params)
    return names


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: a stage either commits completely or leaves the warehouse as it was."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")
