"""Fuzz target "CDR rows": generated CDR files through ``ingest_cdr_file``; every row accounted for.

An example is a few CDR rows plus the shape of the file they go in (CSV with any delimiter, CRLF, BOM;
CSV.gz; Parquet with text columns; Parquet with typed columns). Rows are valid or carry one known
defect — bad time, bad or negative duration, unknown event type, empty or undialable A-number, empty
record id, a copy of an earlier record id — or arbitrary text in one field. The ingest must never raise,
must count ``rows_read = accepted + rejected + duplicates``, reject each defective row at its line with
its reason, never reject a valid row, and drop exactly the later copies of a (day, record id).

An ingest costs ~40 ms (a DuckDB pass and a lake write), so examples of the same file shape share one
file, 100 examples a file (tests/fuzzing.py); half the files are read in 2 KB chunks / 7-row batches so
chunk and batch boundaries fall inside them.
"""

from __future__ import annotations

import gzip
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import strategies as st

from tests.fuzzing import run_fuzz
from transforms import cdr
from transforms.cdr import CDR_REJECT_REASONS, ingest_cdr_file
from transforms.numbers import NumberingTables

LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
BASE = datetime(2024, 3, 4, 0, 0, 0)
LAYOUTS = [
    ("record_id", "a_number", "b_number", "start_time", "duration_s", "event_type", "cell_id", "imei"),
    ("start_time", "event_type", "a_number", "b_number", "duration_s", "record_id"),
    ("imei", "record_id", "duration_s", "b_number", "a_number", "start_time", "event_type"),
]
DEFECTS = {
    "missing_value": ("record_id", ["", "  "]),
    "bad_timestamp": ("start_time", ["", "2024-13-01 00:00:00", "2024-03-05 25:61:00", "hôm qua", "03/05/2024 9:15 AM", "2024-02-30 10:00"]),
    "negative_duration": ("duration_s", ["-5", "-0.5", "-86400", " -1 "]),
    "bad_duration": ("duration_s", ["", "abc", "1e10", "inf", "nan", "12s", "604801"]),
    "unknown_event_type": ("event_type", ["", "data", "VOICEMAIL", "mms", "voice sms"]),
    "empty_a_number": ("a_number", ["", "   "]),
    "invalid_a_number": ("a_number", ["VIETTEL", "5656", "113", "0912", "19001234", "++84961000001", "0961 000 001 x"]),
    # bytes that are not UTF-8 in a field that is otherwise fine (CSV only): the line is rejected as such
    "encoding": ("b_number", [b"09\xff71", b"\xc3(", b"\x80", b"VCB\xfe"]),
}
TYPED_DEFECTS = ("missing_value", "bad_timestamp", "negative_duration", "unknown_event_type", "empty_a_number", "invalid_a_number")


@dataclass(frozen=True)
class FileShape:
    fmt: str  # csv | csv.gz | parquet | parquet-typed
    layout: int
    delimiter: str = ","
    newline: str = "\n"
    bom: bool = False
    small_chunks: bool = False


@dataclass(frozen=True)
class CdrRow:
    values: dict[str, object]  # canonical column -> value (text, or typed for parquet-typed)
    local: datetime  # the local time the row was built from (its partition day)
    expect: str | None  # None = valid; a reason code; "duplicate" = copy of an earlier id; "any" = garbage
    dup_of: int = 0  # for "duplicate": how many valid rows back (within the file) the copied id is


@dataclass
class Example:
    shape: FileShape
    rows: list[CdrRow] = field(default_factory=list)


@pytest.fixture(scope="module")
def tables(settings) -> NumberingTables:
    return NumberingTables.from_settings(settings)


def _time_text(draw, local: datetime) -> str:
    form = draw(st.integers(0, 5))
    if form == 0:
        return local.replace(tzinfo=LOCAL).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if form == 1:
        return local.strftime("%Y-%m-%dT%H:%M:%S+07:00")
    if form == 2:
        return local.strftime("%d/%m/%Y %H:%M:%S")
    if form == 3:
        return local.strftime("%Y/%m/%d %H:%M:%S.%f")[:-3]
    return local.strftime("%Y-%m-%d %H:%M:%S")


_safe_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=',;\t|"\r\n'), max_size=12)
_garbage = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@st.composite
def cdr_row(draw, mobile_prefixes: list[str], typed: bool, csv_like: bool) -> CdrRow:
    local = BASE + timedelta(seconds=draw(st.integers(0, 3 * 86400 - 1)))
    nsn = draw(st.sampled_from(mobile_prefixes))[1:] + draw(st.text("0123456789", min_size=7, max_size=7))
    a_text = draw(st.sampled_from(["0", "84", "+84", " 0"])) + nsn
    b_text = draw(st.one_of(st.sampled_from(["0971000001", "+84 97 100 0002", "1900123456", "5656", "VCB", ""]), _safe_text))
    values: dict[str, object] = {
        "a_number": int("84" + nsn) if typed else a_text,
        "b_number": b_text,
        "start_time": local if typed else _time_text(draw, local),
        "duration_s": draw(st.integers(0, 7200)) if typed else draw(st.sampled_from(["0", "12", "59.6", " 7 ", "3600", "1.0"])),
        "event_type": draw(st.sampled_from(["voice", "sms", "VOICE", " Sms "])),
        "cell_id": draw(st.one_of(st.sampled_from(["452-04-01234-5678", "", "A1"]), _safe_text)),
        "imei": draw(st.sampled_from(["350000000000011", "", "35-0000", "3500000000000119"])),
    }
    kind = draw(st.sampled_from(["valid"] * 5 + ["defect"] * 3 + ["duplicate", "garbage"]))
    if kind == "valid":
        return CdrRow(values, local, None)
    if kind == "duplicate":
        return CdrRow(values, local, "duplicate", draw(st.integers(1, 5)))
    if kind == "garbage" and not typed:
        column = draw(st.sampled_from(sorted(values) + ["record_id"]))
        return CdrRow({**values, column: draw(_garbage)}, local, "any")
    reason = draw(st.sampled_from(TYPED_DEFECTS if typed else sorted(DEFECTS)))
    if reason == "encoding" and not csv_like:
        reason = "missing_value"
    column, texts = DEFECTS[reason]
    if typed:
        typed_bad = {"bad_timestamp": None, "negative_duration": -draw(st.integers(1, 1000)), "empty_a_number": None,
                     "invalid_a_number": draw(st.sampled_from([5656, 113, 8419001234, 1]))}
        if reason in typed_bad:
            return CdrRow({**values, column: typed_bad[reason]}, local, reason)
    return CdrRow({**values, column: draw(st.sampled_from(texts))}, local, reason)


@st.composite
def examples(draw, mobile_prefixes: list[str]) -> Example:
    fmt = draw(st.sampled_from(["csv", "csv", "csv.gz", "parquet", "parquet-typed"]))
    csv_like = fmt.startswith("csv")
    shape = FileShape(
        fmt=fmt,
        layout=draw(st.integers(0, len(LAYOUTS) - 1)),
        delimiter=draw(st.sampled_from([",", ",", ";", "\t", "|"])) if csv_like else ",",
        newline=draw(st.sampled_from(["\n", "\r\n"])) if csv_like else "\n",
        bom=draw(st.booleans()) if csv_like else False,
        small_chunks=draw(st.booleans()),
    )
    rows = draw(st.lists(cdr_row(mobile_prefixes, fmt == "parquet-typed", csv_like), min_size=1, max_size=6))
    return Example(shape, rows)


def _field(value: object, delimiter: str) -> bytes:
    data = value if isinstance(value, bytes) else str(value if value is not None else "").encode("utf-8")
    quote = any(c in data for c in (delimiter.encode(), b'"'))
    return b'"' + data.replace(b'"', b'""') + b'"' if quote else data


def _write(path: Path, shape: FileShape, columns: tuple[str, ...], rows: list[dict[str, object]]) -> list[int]:
    """Write the file; returns each row's first line (CSV: physical line; Parquet: row number)."""
    if shape.fmt.startswith("parquet"):
        schema = {c: pl.String for c in columns}
        if shape.fmt == "parquet-typed":
            schema.update({"a_number": pl.Int64, "start_time": pl.Datetime("us"), "duration_s": pl.Int64})
        pl.DataFrame([{c: r.get(c) for c in columns} for r in rows], schema=schema, orient="row").write_parquet(path)
        return list(range(1, len(rows) + 1))
    d = shape.delimiter.encode()
    lines = [d.join(c.encode() for c in columns)]
    starts, line = [], 2
    for r in rows:
        text = d.join(_field(r.get(c), shape.delimiter) for c in columns)
        starts.append(line)
        line += 1 + text.count(b"\n")
        lines.append(text)
    newline = shape.newline.encode()
    data = (b"\xef\xbb\xbf" if shape.bom else b"") + newline.join(lines) + newline
    path.write_bytes(gzip.compress(data, mtime=0) if shape.fmt == "csv.gz" else data)
    return starts


def check_file(settings, tables: NumberingTables, folder: Path, batch: list[Example]) -> int:
    shape = batch[0].shape
    columns = LAYOUTS[shape.layout]
    rows = [row for example in batch for row in example.rows]
    values: list[dict[str, object]] = []
    valid_ids: list[str] = []
    for i, row in enumerate(rows):
        v = dict(row.values)
        if row.expect == "duplicate" and valid_ids:
            v["record_id"] = valid_ids[max(0, len(valid_ids) - row.dup_of)]
        elif "record_id" not in v:
            v["record_id"] = f"fz-{i}"
        if row.expect in (None, "duplicate"):
            valid_ids.append(str(v["record_id"]))
        values.append(v)
    path = folder / f"cdr_fuzz.{shape.fmt.removesuffix('-typed')}"
    starts = _write(path, shape, columns, values)
    lake = folder / "lake"
    shutil.rmtree(lake, ignore_errors=True)
    s = settings
    if shape.small_chunks:
        s = settings.model_copy(update={"run": settings.run.model_copy(update={"cdr": settings.run.cdr.model_copy(update={"ingest_batch_rows": 7})})})
    saved = cdr._CSV_CHUNK_BYTES
    cdr._CSV_CHUNK_BYTES = 2048 if shape.small_chunks else saved
    try:
        result = ingest_cdr_file(path, "viettel", s, tables, lake, "f" * 64)
    finally:
        cdr._CSV_CHUNK_BYTES = saved

    physical = len(rows) if shape.fmt.startswith("parquet") else starts[-1] - 2 + values_lines(values[-1], columns, shape)
    assert result.rows_read == physical, (result.rows_read, physical)
    assert result.rows_read == result.rows_accepted + result.rows_rejected + result.rows_duplicate
    rejects = result.rejects
    assert rejects.height == result.rows_rejected
    assert rejects["reason"].is_in(list(CDR_REJECT_REASONS)).all(), rejects["reason"].unique().to_list()
    assert rejects["source_line"].is_unique().all() and rejects["detail"].null_count() == 0
    first = 1 if shape.fmt.startswith("parquet") else 2
    assert rejects["source_line"].is_between(first, first + physical - 1).all()
    rejected = dict(rejects.select("source_line", "reason").iter_rows())

    # Documented approximation: once a file has bytes that are not UTF-8, a line holding a U+FFFD it
    # wrote itself cannot be told from a damaged one and is rejected as 'encoding' too.
    damaged = any(isinstance(x, bytes) for v in values for x in v.values())
    wrong = []
    kept: list[tuple[object, object]] = []
    for row, v, line in zip(rows, values, starts):
        got = rejected.get(line)
        if damaged and got == "encoding" and any("\ufffd" in str(x) for x in v.values()):
            row = CdrRow(row.values, row.local, "any")
        if row.expect in (None, "duplicate"):
            if got is not None:
                wrong.append(("valid row rejected", line, got, v))
            kept.append((row.local.date(), str(v["record_id"]).strip()))
        elif row.expect != "any" and got != row.expect:
            wrong.append(("expected " + row.expect, line, got, v))
    assert not wrong, "\n".join(map(repr, wrong[:10]))
    if all(r.expect != "any" for r in rows) and not (damaged and any("\ufffd" in str(x) for v in values for x in v.values())):
        unique = len(set(kept))
        assert (result.rows_accepted, result.rows_duplicate) == (unique, len(kept) - unique)
    landed = pl.scan_parquet(str(lake / "cdr" / "**" / "*.parquet"), hive_partitioning=True).select(pl.len()).collect().item() if result.rows_accepted else 0
    assert landed == result.rows_accepted
    return len(rows)


def values_lines(v: dict[str, object], columns: tuple[str, ...], shape: FileShape) -> int:
    """Physical lines one CSV row takes (a field holding a line break splits it)."""
    return 1 + sum(_field(v.get(c), shape.delimiter).count(b"\n") for c in columns)


@pytest.mark.fuzz
def test_fuzz_cdr_rows(settings, tables, tmp_path: Path) -> None:
    prefixes = sorted(p for c in settings.carriers for p in c.prefixes)
    run_fuzz(
        "CDR rows",
        examples(prefixes),
        lambda batch: check_file(settings, tables, tmp_path, batch),
        default=300,
        batch=100,
        group=lambda e: e.shape,
    )


def test_a_replacement_character_in_valid_utf8_is_data_a_bad_byte_is_not(settings, tables, tmp_path: Path) -> None:
    """Found by the fuzzer: a U+FFFD the exporter wrote made its row an 'encoding' reject in a valid UTF-8 file."""
    header = ",".join(LAYOUTS[1])
    good = header + "\n2024-03-05 09:00:00,voice,0961000001,VCB\ufffd,1,R1\n"
    path = tmp_path / "good.csv"
    path.write_bytes(good.encode("utf-8"))
    r = ingest_cdr_file(path, "viettel", settings, tables, tmp_path / "lake1", "a" * 64)
    assert (r.rows_accepted, r.rows_rejected) == (1, 0)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(good.encode("utf-8") + b"2024-03-05 09:01:00,voice,0961000001,VCB\xff,1,R2\n")
    r = ingest_cdr_file(bad, "viettel", settings, tables, tmp_path / "lake2", "b" * 64)
    assert r.rejects.select("source_line", "reason").rows() == [(2, "encoding"), (3, "encoding")]
