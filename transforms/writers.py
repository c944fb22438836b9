"""Output files a regulator or police officer opens: atomic, private, deterministic and inert.

Complaint text is written by the public and by scammers, so every text cell is neutralised against
spreadsheet formula execution; every file is written under a temporary name and renamed, so a reader
never sees half a file; bytes depend only on the rows, so a re-run is byte-identical.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import polars as pl

_TRIGGER = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"
XLSX_EPOCH = datetime(2000, 1, 1)


def ensure_private_dir(path: Path, mode: int = 0o700) -> Path:
    """Create the folder (and parents) readable only by the running user (or the configured group)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


@contextmanager
def atomic_path(target: Path, file_mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it into place only if the block succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with tmp.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, file_mode)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix an apostrophe to text cells a spreadsheet would execute; plain numbers like +84… stay."""
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_TRIGGER) & ~pl.col(c).str.contains(_PLAIN_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in text_cols
    )


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Render every column as text the same way in CSV and XLSX (timestamps ISO-8601 with offset)."""
    out = []
    for c, t in frame.schema.items():
        col = pl.col(c)
        if isinstance(t, pl.Datetime):
            out.append(col.dt.to_string("%Y-%m-%dT%H:%M:%S%:z").alias(c))
        elif t == pl.Boolean:
            out.append(pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false")).alias(c))
        else:
            out.append(col.cast(pl.String).alias(c))
    return frame.select(out)


def write_csv(frame: pl.DataFrame, target: Path, *, file_mode: int = 0o600) -> Path:
    """UTF-8 with BOM (what Excel needs to show Vietnamese), CRLF-free, every text cell inert."""
    safe = neutralise_formulas(_as_text(frame))
    with atomic_path(target, file_mode) as tmp:
        with tmp.open("wb") as fh:
            fh.write(b"\xef\xbb\xbf")
            safe.write_csv(fh, include_header=True, quote_style="necessary", null_value="")
    return target


def write_xlsx(frame: pl.DataFrame, target: Path, *, sheet: str = "candidates", file_mode: int = 0o600) -> Path:
    """Every cell written as a string cell, so nothing is ever a formula, URL or coerced number."""
    import xlsxwriter

    safe = neutralise_formulas(_as_text(frame))
    with atomic_path(target, file_mode) as tmp:
        wb = xlsxwriter.Workbook(
            str(tmp),
            {"strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
        )
        wb.set_properties({"created": XLSX_EPOCH})
        ws = wb.add_worksheet(sheet[:31])
        bold = wb.add_format({"bold": True})
        for j, name in enumerate(safe.columns):
            ws.write_string(0, j, name, bold)
        for i, row in enumerate(safe.iter_rows(), start=1):
            for j, value in enumerate(row):
                if value is not None:
                    ws.write_string(i, j, value)
        wb.close()
    return target


def write_parquet(frame: pl.DataFrame, target: Path, *, file_mode: int = 0o600) -> Path:
    with atomic_path(target, file_mode) as tmp:
        frame.write_parquet(tmp, compression="zstd", statistics=False)
    return target
