"""Fuzz target "CSV cells": any cell in a complaints / 5656 CSV, any value in a request JSON.

Cells hold quotes, delimiters, CR/LF/lone CR, NUL, BOMs, bidi overrides, very long text and bytes that
are not UTF-8; files come with or without BOM, in LF/CRLF/CR, with ``,`` ``;`` tab or ``|``, gzipped or
not, sometimes cut short. The reader must either refuse the whole file with an ``InputError`` or read
every record exactly once — kept, or rejected with its line and a reason. When the file is a proper
CSV (every cell quoted where needed, UTF-8), the records are exactly the rows written, at the lines
where they start. Request files must load or be refused with an ``InputError``; nothing else escapes.

A read costs about a millisecond, so each example is one file (tests/fuzzing.py, no batching).
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from hypothesis import strategies as st

from tests.fuzzing import run_fuzz
from transforms.complaints import COMPLAINT_OPTIONAL, COMPLAINT_REQUIRED
from transforms.numbers import NumberingTables
from transforms.readers import REJECT_REASONS, InputError, read_records
from transforms.requests import AuthorityRequest, load_request, request_frames
from transforms.sms5656 import REPORT_OPTIONAL, REPORT_REQUIRED

LAYOUTS = {
    "reports_5656": (REPORT_REQUIRED, REPORT_OPTIONAL),
    "complaints": (COMPLAINT_REQUIRED, COMPLAINT_OPTIONAL),
}
READER_REASONS = {"blank_line", "field_count", "encoding"}
BAD_BYTES = [b"\xff", b"\xfe\xff", b"\xc3(", b"\x80", b"\xe2\x82", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\xc0\xaf"]
HOSTILE = [
    '"', '""', '","', ",", ";", "\t", "|", "\r", "\n", "\r\n", "\x00", "\ufeff", "\u202e", "\u2066", "\u200b", "=",
    "=HYPERLINK(\"http://x\")", "+84 912", "'", "\\", "\u0085", "\u2028", "Lừa đảo", "Lu\u031bi\u0300a", "😡", " ",
]
_BREAK = re.compile(r"\r\n|\r|\n")

Cell = str | bytes


@dataclass(frozen=True)
class CsvCase:
    kind: str
    header: list[str]
    rows: list[list[Cell]]
    quoting: str  # all | minimal | none (no quoting at all: stray quotes and delimiters are the reader's problem)
    delimiter: str
    newline: str
    bom: bool
    gz: bool
    cut: int | None  # keep only this many bytes (a file cut short in transfer)

    @property
    def proper(self) -> bool:
        return self.quoting != "none" and self.cut is None and not any(isinstance(c, bytes) for r in self.rows for c in r)


@pytest.fixture(scope="module")
def tables(settings) -> NumberingTables:
    return NumberingTables.from_settings(settings)


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=25)
_long = st.tuples(st.text(min_size=1, max_size=4), st.integers(300, 30_000)).map(lambda t: t[0] * (t[1] // len(t[0])))
_glued = st.lists(st.one_of(st.sampled_from(HOSTILE), _text), min_size=1, max_size=5).map("".join)
_bytes = st.tuples(st.text(max_size=6), st.sampled_from(BAD_BYTES), st.text(max_size=6)).map(
    lambda t: t[0].encode() + t[1] + t[2].encode()
)
cells: st.SearchStrategy[Cell] = st.one_of(_text, _glued, st.sampled_from(HOSTILE + ["", "0912345678", "2024-03-05 09:15"]),
                                           _long, _bytes)


@st.composite
def csv_cases(draw) -> CsvCase:
    kind = draw(st.sampled_from(sorted(LAYOUTS)))
    required, optional = LAYOUTS[kind]
    columns = required + [c for c in optional if draw(st.booleans())]
    columns = draw(st.permutations(columns))
    header = [draw(st.sampled_from([c, c.upper(), f" {c} "])) for c in columns]
    width = len(header)
    row = st.one_of(
        st.lists(cells, min_size=width, max_size=width),
        st.lists(cells, min_size=width, max_size=width),
        st.lists(cells, max_size=width + 2),
    )
    rows = draw(st.lists(row, max_size=8))
    gz = draw(st.integers(0, 5)) == 0
    cut = draw(st.one_of(st.none(), st.none(), st.none(), st.integers(0, 400)))
    return CsvCase(
        kind=kind,
        header=header,
        rows=rows,
        quoting=draw(st.sampled_from(["all", "minimal", "minimal", "none"])),
        delimiter=draw(st.sampled_from([",", ",", ";", "\t", "|"])),
        newline=draw(st.sampled_from(["\n", "\r\n", "\r"])),
        bom=draw(st.booleans()),
        gz=gz,
        cut=cut,
    )


def _cell_bytes(cell: Cell, case: CsvCase) -> bytes:
    data = cell if isinstance(cell, bytes) else cell.encode("utf-8")
    special = (case.delimiter.encode(), b'"', b"\r", b"\n")
    if case.quoting == "all" or (case.quoting == "minimal" and any(s in data for s in special)):
        return b'"' + data.replace(b'"', b'""') + b'"'
    return data


def render(case: CsvCase) -> tuple[bytes, list[int]]:
    """The file's bytes and, for a proper file, the physical line where each written row starts."""
    newline, delim = case.newline.encode(), case.delimiter.encode()
    lines = [delim.join(_cell_bytes(h, case) for h in case.header)]
    starts, line = [], 2
    for r in case.rows:
        starts.append(line)
        encoded = delim.join(_cell_bytes(c, case) for c in r)
        line += 1 + len(_BREAK.findall(encoded.decode("utf-8", "replace")))
        lines.append(encoded)
    data = (b"\xef\xbb\xbf" if case.bom else b"") + newline.join(lines) + newline
    if case.gz:
        data = gzip.compress(data, mtime=0)
    if case.cut is not None:
        data = data[: case.cut]
    return data, starts


def check_csv(case: CsvCase, folder: Path) -> int:
    required, optional = LAYOUTS[case.kind]
    data, starts = render(case)
    path = folder / ("fuzz.csv.gz" if case.gz else "fuzz.csv")
    path.write_bytes(data)
    try:
        result = read_records(path, required, optional)
    except InputError as exc:
        assert str(path) in str(exc), f"an InputError must name the file: {exc}"
        assert not case.proper, f"a proper CSV was refused: {exc}"
        return 0
    records, rejects = result.records, result.rejects
    assert records.columns == [*required, *optional, "source_file", "source_line"]
    assert result.rows_read == records.height + rejects.height
    lines = pl.concat([records["source_line"], rejects["source_line"]])
    assert lines.null_count() == 0 and lines.is_unique().all(), "a line was read twice"
    assert (lines >= 2).all()
    assert rejects["reason"].is_in(list(READER_REASONS)).all() and set(READER_REASONS) <= set(REJECT_REASONS)
    assert rejects["detail"].null_count() == 0 and rejects["source_file"].null_count() == 0
    assert (rejects["raw"].str.len_chars() <= 4000).all()
    if case.proper:
        assert result.rows_read == len(case.rows), (result.rows_read, len(case.rows))
        assert lines.sort().to_list() == starts
        header_cols = [h.strip().lower() for h in case.header]
        expected = [
            (tuple(_BREAK.sub("\n", r[header_cols.index(c)]) or None for c in [*required, *optional] if c in header_cols), s)
            for r, s in zip(case.rows, starts)
            if len(r) == len(case.header) and not (len(r) == 1 and not r[0].strip())
        ]
        present = [c for c in [*required, *optional] if c in header_cols]
        kept = [(tuple(row[:-1]), row[-1]) for row in records.select(*present, "source_line").rows()]
        assert kept == expected
    return result.rows_read


# --------------------------------------------------------------------------------------------- requests

_request_value = st.one_of(
    cells.map(lambda c: c.decode("utf-8", "replace") if isinstance(c, bytes) else c),
    st.none(), st.integers(), st.booleans(), st.lists(_text, max_size=3), st.dictionaries(_text, _text, max_size=2),
)
_VALID = {
    "request_id": "432/STTTT-TTra", "authority": "Sở TT&TT Cần Thơ", "received_at": "2024-03-05T09:00:00+07:00",
    "due_at": "2024-03-07T17:00:00+07:00", "legal_basis": "Nghị định 49/2017/NĐ-CP", "requested_action": "information",
    "numbers": ["0912345678", "+84 98 765 4321"], "fields": ["subscriber", "complaints"],
    "period": {"from": "2024-02-01", "to": "2024-03-05"},
}


@st.composite
def request_files(draw) -> bytes:
    doc: dict[str, object] = dict(_VALID)
    changed = draw(st.sampled_from([0, 0, 0, 1, 1, 2, 4]))  # about half the files stay loadable
    for key in draw(st.sets(st.sampled_from(sorted(_VALID)), min_size=changed, max_size=changed)):
        doc[key] = draw(_request_value)
    for key in draw(st.sets(st.sampled_from(sorted(_VALID)), max_size=1)) if draw(st.integers(0, 4)) == 0 else ():
        doc.pop(key, None)
    if draw(st.booleans()):
        number = st.one_of(st.sampled_from(["0912345678", "+84 98 765 4321", "VCB", "113", "0692348560", "1900 1234"]),
                           cells.map(lambda c: c.decode("utf-8", "replace") if isinstance(c, bytes) else c))
        doc["numbers"] = draw(st.lists(number, min_size=1, max_size=6))
    data = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8")
    mangle = draw(st.integers(0, 19))
    if mangle == 0:
        data = data[: draw(st.integers(0, len(data)))]
    elif mangle == 1:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]
    elif mangle == 2:
        data = b"\xef\xbb\xbf" + data
    elif mangle == 3:
        data = json.dumps(doc, ensure_ascii=False).encode("utf-16")
    return data


def check_request(data: bytes, folder: Path, tables: NumberingTables) -> int:
    path = folder / "request.json"
    path.write_bytes(data)
    try:
        request = load_request(path)
    except InputError as exc:
        assert str(path) in str(exc)
        return 1
    assert isinstance(request, AuthorityRequest)
    header, numbers = request_frames(request, path, tables)
    assert header.height == 1
    assert numbers.height == len(set(request.numbers))
    return 1


Example = tuple[str, CsvCase | bytes]


@pytest.mark.fuzz
def test_fuzz_csv_cells(tmp_path: Path, tables) -> None:
    def check(batch: list[Example]) -> int:
        (what, case), = batch
        return check_csv(case, tmp_path) if what == "csv" else check_request(case, tmp_path, tables)

    run_fuzz(
        "CSV cells",
        st.one_of(st.tuples(st.just("csv"), csv_cases()), st.tuples(st.just("csv"), csv_cases()),
                  st.tuples(st.just("request"), request_files())),
        check,
        default=400,
    )


def test_a_proper_file_with_every_hostile_cell_reads_back_exactly(tmp_path: Path) -> None:
    """The oracle of the fuzz target on one fixed file, so a broken oracle shows up in the default suite."""
    required, optional = LAYOUTS["complaints"]
    header = required + optional
    rows = [[h] + ["x"] * (len(header) - 1) for h in HOSTILE] + [["a"] * (len(header) - 1)] + [[]]
    case = CsvCase("complaints", header, rows, "minimal", ",", "\r\n", True, False, None)
    assert check_csv(case, tmp_path) == len(rows)
    records = read_records(tmp_path / "fuzz.csv", required, optional)
    assert records.records["complaint_id"].to_list() == [_BREAK.sub("\n", h) or None for h in HOSTILE]
    starts = render(case)[1]
    assert starts[-1] == len(HOSTILE) + 6  # three of the hostile cells hold a line break
    assert records.rejects.select("source_line", "reason").rows() == [(starts[-2], "field_count"), (starts[-1], "blank_line")]
