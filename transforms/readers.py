"""Inbox files → all-text record frames, with every physical record either kept or rejected.

Files come from exporters we do not control: Excel on a Vietnamese Windows writes Windows-1258 or
UTF-16, web back-ends write UTF-8 with or without a BOM, CRLF or LF, and quoted fields that hold
newlines. The reader's only job is to turn bytes into records without losing any: it does not interpret
values (that is the parsers' job) but it does keep, for each record, the file and the physical line where
the record starts, so a rejected complaint can be found in the original file by a person.

Records are tokenised by Python's C ``csv`` module (the one tokenizer whose quoting rules match what
Excel and most exporters write, including stray quotes) and then handled as whole columns.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

RAW_MAX_CHARS = 4000
PARQUET_EXPECTED = "expected a complete Parquet file; it may have been cut short in transfer, re-send it"
MAX_INPUT_BYTES = 2 << 30
_CHUNK = 1 << 20
_DELIMITERS = (",", ";", "\t", "|")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")

REJECT_SCHEMA: dict[str, pl.DataType] = {
    "source_file": pl.String(),
    "source_line": pl.Int64(),
    "raw": pl.String(),
    "reason": pl.String(),
    "detail": pl.String(),
}

# Reason codes a reject row may carry (readers and parsers); the ledger groups by these.
REJECT_REASONS: dict[str, str] = {
    "blank_line": "a physical line with no data",
    "field_count": "a CSV record with more or fewer fields than the header",
    "bad_json": "a JSONL line that is not one JSON object",
    "encoding": "the record holds bytes that are not valid in the file's encoding",
    "empty": "the 5656 message is empty",
    "unknown_command": "the 5656 message does not start with V, S, DK DNC or HUY DNC",
    "no_source": "the message names no source number or brandname",
    "ambiguous_source": "the first word could be a brandname or ordinary text; not guessed",
    "invalid_number": "the source or reported number is not a valid number",
    "bad_timestamp": "a timestamp column is empty or not in an accepted form",
    "bad_reporter": "the reporter is empty or not a valid subscriber number",
    "missing_value": "a required column is empty on this row",
    "duplicate_id": "the row's id already appeared earlier in the same file",
}


class InputError(ValueError):
    """A delivered file cannot be read at all; the message names the file and what was expected."""

    def __init__(self, file: Path | str, message: str, *, line: int | None = None, column: str | None = None):
        self.file = str(file)
        self.message = message
        self.line = line
        self.column = column
        where = self.file + (f", line {line}" if line is not None else "") + (f", column {column!r}" if column else "")
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class ReadResult:
    """records: required + optional columns (String, empty → null), ``source_file``, ``source_line``."""

    records: pl.DataFrame
    rejects: pl.DataFrame
    rows_read: int
    encoding: str = "utf-8"
    notes: tuple[str, ...] = field(default_factory=tuple)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema=REJECT_SCHEMA)


def reject_rows(frame: pl.DataFrame, raw: pl.Expr, reason: pl.Expr | str, detail: pl.Expr | str) -> pl.DataFrame:
    """Reject rows in the shared layout; raw text is capped so one hostile record cannot bloat the ledger."""
    as_expr = lambda v: pl.lit(v, dtype=pl.String) if isinstance(v, str) else v  # noqa: E731
    return frame.select(
        pl.col("source_file").cast(pl.String),
        pl.col("source_line").cast(pl.Int64),
        raw.cast(pl.String).str.slice(0, RAW_MAX_CHARS).alias("raw"),
        as_expr(reason).alias("reason"),
        as_expr(detail).alias("detail"),
    )


def _quote_csv(value: pl.Expr, delimiter: str = ",") -> pl.Expr:
    special = "\\t" if delimiter == "\t" else "\\" + delimiter
    needs = value.str.contains('["\\r\\n' + special + "]")
    quoted = pl.lit('"') + value.str.replace_all('"', '""', literal=True) + pl.lit('"')
    return pl.when(needs).then(quoted).otherwise(value).fill_null("")


def render_raw(columns: Iterable[str | pl.Expr]) -> pl.Expr:
    """The record re-encoded as one CSV line (RFC 4180 quoting), for parser rejects: a reviewer can paste it back."""
    return pl.concat_str([_quote_csv(pl.col(c) if isinstance(c, str) else c) for c in columns], separator=",")


# --------------------------------------------------------------------------------------------- decoding


def _utf16_without_bom(sample: bytes) -> str | None:
    even, odd = sample[0::2], sample[1::2]
    if len(sample) < 4:
        return None
    z_even, z_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if z_odd > 0.3 and z_even < 0.05:
        return "utf-16-le"
    if z_even > 0.3 and z_odd < 0.05:
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, path: Path | str, legacy: Literal["convert", "refuse"] = "convert") -> tuple[str, str, bool]:
    """Text, the encoding found, and whether the text is damaged UTF-8 (bad bytes became U+FFFD).

    Order of evidence: a BOM; NUL bytes in every other position (UTF-16 without BOM); strict UTF-8;
    then, when the invalid bytes outnumber the valid multi-byte UTF-8 characters, the file is a legacy
    8-bit export (Windows-1258, the Vietnamese ANSI code page, whose tone marks are combining
    characters — hence NFC after decoding). A mostly-valid UTF-8 file with a few bad bytes is kept and
    the affected records are rejected, rather than re-decoding the whole file wrongly.
    TCVN3 and VNI fonts-encodings cannot be told from Windows-1258 by bytes alone; such files decode to
    wrong letters and are for the exporter to fix.
    """
    how_to = (
        "re-export it as UTF-8 (Excel: File → Save As → 'CSV UTF-8 (Comma delimited)'; "
        "LibreOffice: Character set 'Unicode (UTF-8)')"
    )
    if data.startswith(b"\xef\xbb\xbf"):
        enc, body = "utf-8-sig", data[3:]
    elif data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        enc, body = "utf-32", data
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        enc, body = "utf-16", data
    elif (guess := _utf16_without_bom(data[:65536])) is not None:
        enc, body = guess, data
    else:
        enc, body = "utf-8", data
    if enc != "utf-8" and enc != "utf-8-sig":
        try:
            return unicodedata.normalize("NFC", body.decode(enc)), enc, False
        except UnicodeDecodeError as exc:
            raise InputError(path, f"looks like {enc.upper()} but byte {exc.start} is invalid; {how_to}") from exc
    try:
        return body.decode("utf-8"), enc, False
    except UnicodeDecodeError:
        pass
    replaced = body.decode("utf-8", errors="replace")
    bad = replaced.count("\ufffd")
    good = len(_NON_ASCII.findall(replaced)) - bad
    if good >= 4 * bad:
        return replaced, "utf-8", True
    if legacy == "refuse":
        raise InputError(path, f"file is not UTF-8 (it looks like Windows-1258, Vietnamese ANSI); {how_to}")
    try:
        return unicodedata.normalize("NFC", body.decode("cp1258")), "cp1258", False
    except UnicodeDecodeError as exc:
        raise InputError(
            path, f"file is neither UTF-8 nor Windows-1258 (byte 0x{body[exc.start]:02X} at offset {exc.start}); {how_to}"
        ) from exc


# What reading a delivered file can raise: I/O, a damaged or truncated gzip stream (zlib.error is not an OSError).
READ_ERRORS: tuple[type[BaseException], ...] = (OSError, EOFError, zlib.error)


def one_line(exc: BaseException) -> str:
    """An exception's text on one line: library messages (thrift, Arrow) carry newlines a log line should not."""
    return " ".join(str(exc).split())


def describe_read_error(exc: BaseException) -> str:
    """Why the bytes of a file could not be read, and what was expected, for an :class:`InputError`."""
    resend = "expected a complete gzip stream; the file was damaged or cut short in transfer, re-send it"
    if isinstance(exc, EOFError):
        why = f"the gzip data ends early ({exc}); {resend}"
    elif isinstance(exc, gzip.BadGzipFile):
        what = "not a gzip file" if str(exc).startswith("Not a gzipped file") else "the gzip data is damaged"
        why = f"{what} ({exc}); {resend}"
    elif isinstance(exc, zlib.error):
        why = f"the gzip data is damaged ({exc}); {resend}"
    else:
        why = f"{exc.strerror if isinstance(exc, OSError) and exc.strerror else exc}; expected a file the run can read"
    return f"cannot read file: {why}"


def _read_bytes(path: Path) -> bytes:
    try:
        if path.name.lower().endswith(".gz"):
            with gzip.open(path, "rb") as fh:
                data = fh.read(MAX_INPUT_BYTES + 1)
        else:
            with path.open("rb") as fh:
                data = fh.read(MAX_INPUT_BYTES + 1)
    except READ_ERRORS as exc:
        raise InputError(path, describe_read_error(exc)) from exc
    if len(data) > MAX_INPUT_BYTES:
        raise InputError(path, f"file is larger than {MAX_INPUT_BYTES} bytes once decompressed; split the delivery")
    return data


# --------------------------------------------------------------------------------------------- columns


def _canonical(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower()


def _resolve_columns(
    path: Path, found: list[str], required: list[str], optional: list[str], rename: dict[str, str] | None
) -> dict[str, int]:
    """Canonical column → position in the file; raises when a required column is absent."""
    renames = {_canonical(k): _canonical(v) for k, v in (rename or {}).items()}
    names = [renames.get(_canonical(h), _canonical(h)) for h in found]
    wanted = [_canonical(c) for c in [*required, *optional]]
    dup = sorted({n for n in names if names.count(n) > 1 and n in wanted})
    if dup:
        raise InputError(path, f"column(s) {dup} appear more than once in the header", line=1)
    missing = [c for c in required if _canonical(c) not in names]
    if missing:
        raise InputError(
            path,
            f"required column {missing[0]!r} is missing (found columns: {_safe_names(found)}; "
            f"expected {required} and optionally {optional})",
            line=1,
            column=missing[0],
        )
    return {c: names.index(_canonical(c)) for c in [*required, *optional] if _canonical(c) in names}


def _finish(columns: dict[str, pl.Series], source: str, lines: np.ndarray, wanted: list[str]) -> pl.DataFrame:
    n = len(lines)
    frame = pl.DataFrame(
        {c: columns[c] if c in columns else pl.Series(c, [None] * n, dtype=pl.String) for c in wanted}
    )
    return frame.with_columns(
        [pl.when(pl.col(c).str.len_bytes() > 0).then(pl.col(c)).alias(c) for c in wanted]
        + [pl.lit(source, dtype=pl.String).alias("source_file"), pl.Series("source_line", lines, dtype=pl.Int64)]
    )


def _pick_delimiter(header_line: str, required: list[str], rename: dict[str, str] | None) -> str:
    renames = {_canonical(k): _canonical(v) for k, v in (rename or {}).items()}
    for d in _DELIMITERS:
        names = {renames.get(_canonical(h), _canonical(h)) for h in next(csv.reader([header_line], delimiter=d), [])}
        if all(_canonical(c) in names for c in required):
            return d
    return ","


def _read_csv(
    path: Path, text: str, required: list[str], optional: list[str], rename: dict[str, str] | None, damaged: bool
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    source = str(path)
    if not text.strip():
        raise InputError(path, "file is empty; expected a header line naming the columns", line=1)
    # CRLF, LF and a lone CR (old Mac exports) are all line breaks, in the data as in the line count.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    header_line = text.split("\n", 1)[0]
    delimiter = _pick_delimiter(header_line, required, rename)
    csv.field_size_limit(max(csv.field_size_limit(), MAX_INPUT_BYTES // 2))
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    except csv.Error as exc:
        raise InputError(path, f"CSV cannot be tokenised: {exc}") from exc
    header, body = rows[0], rows[1:]
    positions = _resolve_columns(path, header, required, optional, rename)
    n, width = len(body), len(header)
    lengths = np.fromiter(map(len, body), dtype=np.int64, count=n)
    flat = pl.Series("f", list(chain.from_iterable(body)), dtype=pl.String)
    row_of = np.repeat(np.arange(n, dtype=np.int64), lengths)

    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical == n + 1:
        lines = np.arange(2, n + 2, dtype=np.int64)
    else:  # some records span several lines: a record starts one line after the previous one ended
        inner = np.bincount(row_of, weights=flat.str.count_matches("\n").to_numpy(), minlength=n).astype(np.int64)
        lines = 2 + np.concatenate([[0], np.cumsum(1 + inner)[:-1]]).astype(np.int64)

    offsets = np.cumsum(lengths) - lengths
    blank = lengths == 0
    single = np.flatnonzero(lengths == 1)
    if len(single):
        blank[single] = (flat.gather(offsets[single]).str.strip_chars() == "").to_numpy()
    good = (lengths == width) & ~blank
    if damaged:
        bad_bytes = np.bincount(row_of, weights=flat.str.contains("\ufffd", literal=True).to_numpy(), minlength=n) > 0
    else:
        bad_bytes = np.zeros(n, dtype=bool)
    keep = good & ~bad_bytes

    good_flat = flat.filter(pl.Series(np.repeat(keep, lengths)))
    kept = int(keep.sum())
    columns = {c: good_flat.gather(np.arange(i, kept * width, width)).alias(c) for c, i in positions.items()}
    wanted = [*required, *optional]
    records = _finish(columns, source, lines[keep], wanted)

    rejected = ~keep
    if not rejected.any():
        return records, empty_rejects(), n
    parts = pl.DataFrame({"row": row_of, "f": flat}).filter(pl.Series(np.repeat(rejected, lengths)))
    raw = parts.group_by("row", maintain_order=True).agg(_quote_csv(pl.col("f"), delimiter).str.join(delimiter).alias("raw"))
    idx = np.flatnonzero(rejected)
    info = pl.DataFrame(
        {
            "row": idx,
            "source_file": [source] * len(idx),
            "source_line": lines[idx],
            "n": lengths[idx],
            "blank": blank[idx],
            "bad_bytes": bad_bytes[idx],
        }
    ).join(raw, on="row", how="left", maintain_order="left")
    rejects = reject_rows(
        info,
        pl.col("raw").fill_null(""),
        pl.when(pl.col("blank")).then(pl.lit("blank_line")).when(pl.col("bad_bytes") & (pl.col("n") == width))
        .then(pl.lit("encoding")).otherwise(pl.lit("field_count")),
        pl.when(pl.col("blank")).then(pl.lit("blank line (no fields)"))
        .when(pl.col("bad_bytes") & (pl.col("n") == width))
        .then(pl.lit("record contains bytes that are not valid UTF-8 (shown as U+FFFD)"))
        .otherwise(pl.format(f"expected {width} fields as in the header, found {{}}", pl.col("n"))),
    )
    return records, rejects, n


def _read_jsonl(
    path: Path, text: str, required: list[str], optional: list[str], rename: dict[str, str] | None, damaged: bool
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    source = str(path)
    if not text.strip():
        raise InputError(path, "file is empty (no JSON line); expected one JSON object per line", line=1)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    frame = pl.DataFrame({"raw": pl.Series(lines, dtype=pl.String)}).with_columns(
        source_line=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        source_file=pl.lit(source, dtype=pl.String),
    )
    doc = pl.col("raw").str.json_path_match("$")
    frame = frame.with_columns(
        blank=pl.col("raw").str.strip_chars() == "",
        is_object=doc.str.starts_with("{").fill_null(False),
        bad_bytes=pl.col("raw").str.contains("\ufffd", literal=True) & pl.lit(damaged),
    )
    keys = {_canonical(v): k for k, v in (rename or {}).items()}
    wanted = [*required, *optional]

    def path_of(col: str) -> str:
        key = keys.get(_canonical(col), col).replace("\\", "\\\\").replace("'", "\\'")
        return f"$['{key}']"

    if not frame["is_object"].any():  # not one object: another format under a .jsonl name, not a file of bad rows
        first = int(frame.filter(~pl.col("blank"))["source_line"][0])
        raise InputError(path, "no line is a JSON object; expected one JSON object per line (JSON Lines)", line=first)
    ok = frame.filter(pl.col("is_object") & ~pl.col("bad_bytes"))
    extracted = ok.select(pl.col("raw").str.json_path_match(path_of(c)).alias(c) for c in wanted)
    absent = [c for c in required if extracted.height and extracted[c].null_count() == extracted.height]
    if absent:
        raise InputError(path, f"required key {absent[0]!r} is absent or null on every line (expected keys {required})", column=absent[0])
    records = _finish({c: extracted[c] for c in wanted}, source, ok["source_line"].to_numpy(), wanted)
    bad = frame.filter(~(pl.col("is_object") & ~pl.col("bad_bytes")))
    rejects = reject_rows(
        bad,
        pl.col("raw"),
        pl.when(pl.col("blank")).then(pl.lit("blank_line")).when(pl.col("bad_bytes")).then(pl.lit("encoding"))
        .otherwise(pl.lit("bad_json")),
        pl.when(pl.col("blank")).then(pl.lit("blank line"))
        .when(pl.col("bad_bytes")).then(pl.lit("line contains bytes that are not valid UTF-8 (shown as U+FFFD)"))
        .otherwise(pl.lit("expected one JSON object per line")),
    )
    return records, rejects, frame.height


def _read_parquet(
    path: Path, required: list[str], optional: list[str], rename: dict[str, str] | None
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    try:
        table = pl.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 - polars raises several unrelated types for a bad file
        raise InputError(path, f"not a readable Parquet file ({one_line(exc)}); {PARQUET_EXPECTED}") from exc
    positions = _resolve_columns(path, table.columns, required, optional, rename)
    try:
        columns = {c: table.to_series(i).cast(pl.String).alias(c) for c, i in positions.items()}
    except Exception as exc:  # noqa: BLE001
        raise InputError(path, f"a column cannot be read as text: {exc}") from exc
    lines = np.arange(1, table.height + 1, dtype=np.int64)
    return _finish(columns, str(path), lines, [*required, *optional]), empty_rejects(), table.height


def _safe_names(found: list[str]) -> list[str]:
    """Header names as an error may show them: a headerless file's first row is data, never echoed."""
    return [c if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,40}", c) else "<not a column name>" for c in found]


def read_records(
    path: Path,
    required: list[str],
    optional: list[str],
    rename: dict[str, str] | None = None,
    *,
    legacy_encoding: Literal["convert", "refuse"] = "convert",
) -> ReadResult:
    """Read one inbox file (.csv, .csv.gz, .jsonl, .parquet) into text columns named as ``required`` + ``optional``.

    ``rename`` maps a vendor's column name to ours. Header names match case- and space-insensitively.
    ``source_line`` is the physical line where a record starts (CSV header = line 1; JSONL line 1 is the
    first record; Parquet: row number from 1). Identity: ``rows_read == records.height + rejects.height``.
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".parquet"):
        records, rejects, n = _read_parquet(path, required, optional, rename)
        return ReadResult(records, rejects, n, encoding="parquet")
    if not name.endswith((".csv", ".csv.gz", ".jsonl", ".jsonl.gz")):
        raise InputError(path, "unsupported file type; expected .csv, .csv.gz, .jsonl or .parquet")
    text, encoding, damaged = decode_bytes(_read_bytes(path), path, legacy_encoding)
    notes: list[str] = []
    if encoding not in ("utf-8", "utf-8-sig"):
        notes.append(f"converted from {encoding} to UTF-8 (NFC)")
    if damaged:
        notes.append("file is UTF-8 with invalid bytes; records holding them were rejected (reason 'encoding')")
    reader = _read_jsonl if ".jsonl" in name else _read_csv
    records, rejects, n = reader(path, text, required, optional, rename, damaged)
    return ReadResult(records, rejects, n, encoding=encoding, notes=tuple(notes))
