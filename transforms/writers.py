"""Output files a regulator or police officer opens: atomic, private, deterministic and inert.

Complaint text is written by the public and by scammers, so every text cell is neutralised against
spreadsheet formula execution; every file is written under a temporary name and renamed, so a reader
never sees half a file; bytes depend only on the rows, so a re-run is byte-identical.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import polars as pl

from transforms.faults import kill_point

_TRIGGER = r"^[=+\-@\t\r]"
_PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"
# Characters that are invisible or re-order what is shown, so a reader of a cell (or a report, a letter)
# sees something other than the data: C0/C1 controls except TAB/LF/CR, bidi marks, embeddings, overrides
# and isolates (U+202E shows "0912" as "2190"), zero-width characters (two ids that look identical).
INVISIBLE_CHARS: tuple[str, ...] = tuple(
    chr(c) for lo, hi in ((0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F), (0x061C, 0x061C), (0x200B, 0x200F),
                          (0x202A, 0x202E), (0x2060, 0x2064), (0x2066, 0x2069), (0xFEFF, 0xFEFF))
    for c in range(lo, hi + 1)
)
_INVISIBLE = re.compile("[" + "".join(INVISIBLE_CHARS) + "]")
XLSX_EPOCH = datetime(2000, 1, 1)


def ensure_private_dir(path: Path, mode: int = 0o700) -> Path:
    """Create the folder (and parents) readable only by the running user (or the configured group)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    return path


def process_alive(pid: int) -> bool:
    """False once ``pid`` has exited (and been reaped): its temp files are then orphans."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temps(target: Path) -> list[Path]:
    """Delete ``target``'s temporary siblings left by processes that no longer run.

    A SIGKILL (OOM killer, power cut, ``kill -9``) skips every ``finally``, so the temp file of a write
    that was under way stays behind. The temp names carry the writer's pid, so the next write of the same
    file removes exactly those whose writer is gone and never a live writer's file.
    """
    pattern = re.compile(rf"^\.{re.escape(target.name)}\.([0-9]+)\.[^/]*\.tmp(\.wal)?$")
    removed: list[Path] = []
    for p in target.parent.glob(f".{target.name}.*") if target.parent.is_dir() else []:
        m = pattern.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not process_alive(int(m.group(1))):
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


@contextmanager
def atomic_path(target: Path, file_mode: int = 0o600) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it into place only if the block succeeds.

    The temporary name is ``.<name>.<pid>.<random>.tmp``: hidden, and sweepable after a crash
    (:func:`remove_stale_temps`, run here before every write).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(target)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
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


def invisible_token(ch: str) -> str:
    return f"[U+{ord(ch):04X}]"


def show_invisible(text: str) -> str:
    """Each invisible or bidi control as a visible ``[U+202E]`` token: the reader sees that it was there and
    the text is shown in the order it was written. For values that are displayed, never for data files."""
    return _INVISIBLE.sub(lambda m: invisible_token(m.group()), text)


def show_invisible_expr(col: pl.Expr) -> pl.Expr:
    """:func:`show_invisible` over a whole text column (one Aho-Corasick pass)."""
    return col.str.replace_many(list(INVISIBLE_CHARS), [invisible_token(ch) for ch in INVISIBLE_CHARS])


def neutralise_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """What a spreadsheet cell must be: invisible controls made visible first (so ``U+202E=…`` cannot hide a
    formula start either), then formula starts neutralised."""
    text_cols = [c for c, t in frame.schema.items() if t == pl.String]
    return neutralise_formulas(frame.with_columns(show_invisible_expr(pl.col(c)).alias(c) for c in text_cols))


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


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 with BOM (what Excel needs to show Vietnamese), CRLF-free, every text cell inert."""
    buf = io.BytesIO()
    buf.write(b"\xef\xbb\xbf")
    neutralise_cells(_as_text(frame)).write_csv(buf, include_header=True, quote_style="necessary", null_value="")
    return buf.getvalue()


def write_csv(frame: pl.DataFrame, target: Path, *, file_mode: int = 0o600) -> Path:
    """:func:`csv_bytes` written atomically."""
    data = csv_bytes(frame)
    with atomic_path(target, file_mode) as tmp:
        tmp.write_bytes(data)
        kill_point("writers.csv")
    return target


def write_xlsx(frame: pl.DataFrame, target: Path, *, sheet: str = "candidates", file_mode: int = 0o600) -> Path:
    """Every cell written as a string cell, so nothing is ever a formula, URL or coerced number."""
    import xlsxwriter

    safe = neutralise_cells(_as_text(frame))
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
        kill_point("writers.xlsx")
    return target


def write_parquet(frame: pl.DataFrame, target: Path, *, file_mode: int = 0o600) -> Path:
    with atomic_path(target, file_mode) as tmp:
        frame.write_parquet(tmp, compression="zstd", statistics=False)
        kill_point("writers.parquet")
    return target
