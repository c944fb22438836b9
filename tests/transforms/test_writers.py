import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from transforms.writers import (
    atomic_path, neutralise_cells, neutralise_formulas, show_invisible, write_csv, write_parquet, write_xlsx,
)

HOSTILE = ["=HYPERLINK(\"http://x\",\"y\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "\tx", "\r=1", "=1+1"]
BENIGN = ["+84912345678", "-5", "12", "lừa đảo", "a=b", ""]


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "msisdn": ["+84912345678"] * len(HOSTILE),
            "content": HOSTILE,
            "score": [1.5] * len(HOSTILE),
            "when": [datetime(2024, 3, 5, 2, 15, tzinfo=UTC)] * len(HOSTILE),
        }
    )


def test_hostile_cells_are_neutralised_and_benign_kept():
    out = neutralise_formulas(pl.DataFrame({"c": HOSTILE + BENIGN}))["c"].to_list()
    assert out[: len(HOSTILE)] == ["'" + h for h in HOSTILE]
    assert out[len(HOSTILE):] == BENIGN


def test_csv_has_bom_and_inert_cells_and_is_deterministic(tmp_path: Path):
    a = write_csv(frame(), tmp_path / "a.csv")
    b = write_csv(frame(), tmp_path / "b.csv")
    raw = a.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw == b.read_bytes()
    text = raw.decode("utf-8-sig")
    for line in text.splitlines()[1:]:
        cells = line.split(",", 1)[1]
        assert not cells.lstrip('"').startswith(("=", "+", "-", "@"))
    assert "2024-03-05T02:15:00+00:00" in text
    assert oct(os.stat(a).st_mode & 0o777) == "0o600"


def test_xlsx_has_no_formula_cells_and_is_deterministic(tmp_path: Path):
    a = write_xlsx(frame(), tmp_path / "a.xlsx")
    b = write_xlsx(frame(), tmp_path / "b.xlsx")
    assert a.read_bytes() == b.read_bytes()
    wb = openpyxl.load_workbook(a)
    ws = wb.active
    values = [c.value for row in ws.iter_rows() for c in row]
    assert all(c.data_type == "s" for row in ws.iter_rows() for c in row)
    assert "'=1+1" in values and "+84912345678" in values
    with zipfile.ZipFile(a) as z:
        assert not any("calcChain" in n for n in z.namelist())


def test_invisible_and_bidi_characters_are_shown_before_the_formula_check():
    cells = ["0912\u202e345678", "\x00=cmd|' /C calc'!A0", "\u200b=1+1", "a\u2066b\u2069", "x\x85y", "=1+1", "tab\tand\nline",
             "emoji 👍🏽", "lừa đảo"]
    out = neutralise_cells(pl.DataFrame({"c": cells}))["c"].to_list()
    assert out == ["0912[U+202E]345678", "[U+0000]=cmd|' /C calc'!A0", "[U+200B]=1+1", "a[U+2066]b[U+2069]",
                   "x[U+0085]y", "'=1+1", "tab\tand\nline", "emoji 👍🏽", "lừa đảo"]
    assert out == [show_invisible(c) if not c.startswith("=") else "'" + c for c in cells]


def test_parquet_is_deterministic(tmp_path: Path):
    a = write_parquet(frame(), tmp_path / "a.parquet")
    b = write_parquet(frame(), tmp_path / "b.parquet")
    assert a.read_bytes() == b.read_bytes()
    assert pl.read_parquet(a).equals(frame())


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path):
    target = tmp_path / "x.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
