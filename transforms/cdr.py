"""CDR ingest: one delivered file → the carrier's Parquet lake, streaming, every row accounted for.

A carrier-day holds hundreds of millions of rows, so nothing here holds a whole file: the file is read
in batches, each batch is typed, normalised (numbers through the vectorised numbering core) and split
into accepted rows (spooled to a temporary Parquet file) and rejects. DuckDB then drops duplicate
record ids, sorts by caller and writes the lake, spilling to disk when a file outgrows memory.

The lake is laid out for the feature stage, which works bucket by bucket (see :mod:`transforms.features`):

    <lake>/cdr/carrier=<c>/day=<YYYY-MM-DD local>/bucket=<a_number % buckets>/<sha256[:16]>.parquet
    <lake>/cdr_inbound/carrier=<c>/day=<…>/bucket=<b_number % buckets>/<sha256[:16]>.parquet

The second tree is a two-column projection (``b_number``, ``event_type``) bucketed by the *callee*, so
inbound counts per subscriber are read from one bucket too instead of re-scanning every bucket. File
names come from the delivery's hash: re-ingesting a file rewrites the same names (idempotent), and files
appear by rename, so a reader never sees half a file.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from transforms.config import Settings
from transforms.faults import kill_point
from transforms.numbers import NumberingTables, normalise_numbers
from transforms.readers import (
    PARQUET_EXPECTED, READ_ERRORS, REJECT_SCHEMA, InputError, describe_read_error, empty_rejects, one_line, reject_rows,
    render_raw,
)
from transforms.timestamps import parse_timestamps
from transforms.warehouse import connect, query_model, run_model
from transforms.writers import atomic_path, process_alive

CDR_COLUMNS = ("record_id", "a_number", "b_number", "start_time", "duration_s", "event_type", "cell_id", "imei")
REQUIRED = CDR_COLUMNS[:6]
EVENT_TYPES = ("voice", "sms")
LAYOUT_FILE = "_layout.json"
LAYOUT_VERSION = 1
_DELIMITERS = (",", ";", "\t", "|")
_CSV_CHUNK_BYTES = 64 << 20
_MAX_DURATION_S = 7 * 86400

# Reason codes of CDR rejects (in the order they are checked: a row gets the first that applies).
CDR_REJECT_REASONS: dict[str, str] = {
    "blank_line": "a physical line with no data",
    "field_count": "a CSV record with more or fewer fields than the header",
    "encoding": "the line holds bytes that are not valid UTF-8",
    "missing_value": "record_id is empty",
    "bad_timestamp": "start_time is empty or not a timestamp",
    "bad_duration": "duration_s is empty or not a number",
    "negative_duration": "duration_s is below zero",
    "unknown_event_type": "event_type is neither voice nor sms",
    "empty_a_number": "a_number is empty",
    "invalid_a_number": "a_number is not a dialable number (invalid, brandname, short or service code)",
}

LAKE_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "a_number": pl.Int64(),
    "b_number": pl.Int64(),
    "start_time": pl.Datetime("us", "UTC"),
    "local_hour": pl.Int8(),
    "duration_s": pl.Int32(),
    "event_type": pl.String(),
    "a_carrier": pl.String(),
    "cell_id": pl.String(),
    "cell_key": pl.Int64(),
    "imei": pl.Int64(),
}
_SPOOL_EXTRA: dict[str, pl.DataType] = {
    "day": pl.Date(),
    "bucket": pl.Int32(),
    "b_bucket": pl.Int32(),
    "source_line": pl.Int64(),
}


class LakeLayoutError(ValueError):
    """The lake on disk was written with a different bucket count or time zone than the config asks for."""


@dataclass(frozen=True)
class LakeLayout:
    buckets: int
    timezone: str


@dataclass
class CdrIngest:
    """What one file contributed; ``rows_read = rows_accepted + rows_rejected + rows_duplicate``."""

    rows_read: int
    rows_accepted: int
    rows_rejected: int
    rows_duplicate: int
    rejects: pl.DataFrame
    partitions: list[str] = field(default_factory=list)


def cdr_root(lake: Path) -> Path:
    return Path(lake) / "cdr"


def inbound_root(lake: Path) -> Path:
    return Path(lake) / "cdr_inbound"


def lake_layout(lake: Path, settings: Settings, *, create: bool = True) -> LakeLayout:
    """The lake's bucket count and time zone, fixed when it is first written.

    Bucket and day partitions are facts of the files on disk; silently reading them under another bucket
    count or zone would put a subscriber's rows in two passes, so a mismatch is an error naming both.
    """
    wanted = LakeLayout(settings.run.cdr.buckets, settings.run.timezone)
    path = cdr_root(lake) / LAYOUT_FILE
    if path.is_file():
        found = json.loads(path.read_text(encoding="utf-8"))
        have = LakeLayout(int(found["buckets"]), str(found["timezone"]))
        if have != wanted:
            raise LakeLayoutError(
                f"{path}: the lake was written with buckets={have.buckets}, timezone={have.timezone!r}; "
                f"config/run.toml asks for [cdr] buckets={wanted.buckets}, timezone={wanted.timezone!r}. "
                "Restore the setting or rebuild the lake."
            )
        return have
    if create:
        body = {"version": LAYOUT_VERSION, "buckets": wanted.buckets, "timezone": wanted.timezone,
                "bucket_of": "a_number % buckets (E.164 digits as int64)"}
        with atomic_path(path, 0o644) as tmp:  # a crash leaves no half file, and its temp file is swept later
            tmp.write_text(json.dumps(body, indent=2) + "\n", encoding="utf-8")
    return wanted




# --------------------------------------------------------------------------------------------- reading


def _canonical(name: str) -> str:
    return name.strip().strip("\ufeff").strip().lower()


def resolve_columns(path: Path, found: list[str], carrier: str, settings: Settings) -> dict[str, str]:
    """Canonical column → the file's column name, applying the carrier's vendor aliases from config."""
    aliases = {_canonical(k): v for k, v in settings.run.cdr.columns.get(carrier, {}).items()}
    mapped: dict[str, str] = {}
    for name in found:
        canon = aliases.get(_canonical(name), _canonical(name))
        if canon not in CDR_COLUMNS:
            continue
        if canon in mapped:
            raise InputError(path, f"columns {mapped[canon]!r} and {name!r} both map to {canon!r}", line=1)
        mapped[canon] = name
    missing = [c for c in REQUIRED if c not in mapped]
    if missing:
        raise InputError(
            path,
            f"required CDR column {missing[0]!r} is missing (found columns: {found}; expected {list(REQUIRED)} "
            f"and optionally cell_id, imei, or vendor names mapped in config/run.toml [cdr.columns.{carrier}])",
            line=1,
            column=missing[0],
        )
    return mapped


def _open_bytes(path: Path):
    with path.open("rb") as fh:
        magic = fh.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else path.open("rb")


def _decode(data: bytes) -> tuple[str, bool]:
    """Text, and whether it had bytes invalid in UTF-8 (they become U+FFFD): a U+FFFD the exporter wrote
    itself is a character like any other, not a reason to reject its line."""
    try:
        return data.decode("utf-8"), False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), True


def _text_chunks(path: Path, chunk_bytes: int) -> Iterator[tuple[str, bool]]:
    """Decoded text cut at line ends, with its damage flag (:func:`_decode`), so damaged lines can be rejected.

    A damaged or cut-short gzip stream (its CRC is only checked at the end) or an I/O error is an
    :class:`InputError` saying how far the file was readable; the caller lands none of the file.
    """
    try:
        fh = _open_bytes(path)
    except READ_ERRORS as exc:
        raise InputError(path, describe_read_error(exc)) from exc
    lines_done = 0
    with fh:
        rest = b""
        first = True
        while True:
            try:
                data = fh.read(chunk_bytes)
            except READ_ERRORS as exc:
                where = f" (found after line {lines_done})" if lines_done else ""
                raise InputError(path, describe_read_error(exc) + where) from exc
            if first:
                first = False
                if data[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in data[:4]:
                    raise InputError(path, "file is UTF-16 (or binary); CDR exports must be UTF-8 or ASCII text")
                data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
            if not data:
                if rest:
                    yield _decode(rest)
                return
            buf = rest + data
            cut = buf.rfind(b"\n")
            if cut < 0:
                rest = buf
                continue
            rest = buf[cut + 1 :]
            lines_done += buf.count(b"\n", 0, cut + 1)
            yield _decode(buf[: cut + 1])


def _csv_field_pattern(delimiter: str) -> str:
    """One delimiter followed by one field (quoted with doubled quotes, or plain); applied to the line with
    a delimiter prepended, so no match is empty and every field is found."""
    d = "\\t" if delimiter == "\t" else "\\" + delimiter
    return f'{d}("(?:[^"]|"")*"|[^{d}]*)'


def _csv_batches(path: Path, carrier: str, settings: Settings) -> Iterator[pl.DataFrame]:
    """Frames of canonical text columns + ``source_line``/``raw``/``problem`` per physical line.

    Lines are split by whole-column string operations: the plain ones by the delimiter, the few with
    quotes by a CSV field regex. A record spanning several lines (quoted newline) is not supported in CDR
    exports; its pieces are rejected as ``field_count``.
    """
    chunk = max(_CSV_CHUNK_BYTES // 8, min(_CSV_CHUNK_BYTES, settings.run.cdr.ingest_batch_rows * 96))
    next_line = 1
    mapped: dict[str, str] | None = None
    positions: dict[str, int] = {}
    width = 0
    delimiter = ","
    for text, damaged in _text_chunks(path, chunk):
        lines = pl.Series("raw", [text]).str.strip_suffix("\n").str.split("\n").explode().str.strip_suffix("\r")
        frame = pl.DataFrame({"raw": lines}).with_columns(
            source_line=pl.int_range(next_line, next_line + pl.len(), dtype=pl.Int64)
        )
        next_line += frame.height
        if mapped is None:
            header = frame["raw"][0] if frame.height else ""
            if not header or not header.strip():
                raise InputError(path, "file is empty; expected a header line naming the CDR columns", line=1)
            delimiter = _pick_delimiter(header)
            names = _split_line(header, delimiter)
            mapped = resolve_columns(path, names, carrier, settings)
            positions = {canon: names.index(name) for canon, name in mapped.items()}
            width = len(names)
            frame = frame.slice(1)
        if frame.height == 0:
            continue
        yield _split_frame(frame, delimiter, width, positions, damaged)
    if mapped is None:
        raise InputError(path, "file is empty; expected a header line naming the CDR columns", line=1)


def _pick_delimiter(header: str) -> str:
    counts = {d: header.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _split_line(line: str, delimiter: str) -> list[str]:
    fields = pl.Series([delimiter + line]).str.extract_all(_csv_field_pattern(delimiter)).explode()
    return [_unquote_one(f[len(delimiter):]) for f in fields.to_list()]


def _unquote_one(value: str) -> str:
    v = value.strip()
    return v[1:-1].replace('""', '"') if len(v) >= 2 and v.startswith('"') and v.endswith('"') else v


def _unquote(expr: pl.Expr) -> pl.Expr:
    stripped = expr.str.strip_chars(" ")
    quoted = stripped.str.starts_with('"') & stripped.str.ends_with('"') & (stripped.str.len_chars() >= 2)
    inner = stripped.str.slice(1, stripped.str.len_chars() - 2).str.replace_all('""', '"', literal=True)
    return pl.when(quoted).then(inner).otherwise(stripped)


def _with_fields(frame: pl.DataFrame, delimiter: str) -> pl.DataFrame:
    """Adds ``_f``, each line's fields: a plain split, except for lines with quotes (CSV field regex)."""
    quoted = pl.col("raw").str.contains('"', literal=True)
    plain = frame.with_columns(pl.col("raw").str.split(delimiter).alias("_f"))
    if not frame["raw"].str.contains('"', literal=True).any():
        return plain
    regex = (pl.lit(delimiter) + pl.col("raw")).str.extract_all(_csv_field_pattern(delimiter))
    with_quotes = frame.filter(quoted).with_columns(regex.list.eval(pl.element().str.slice(len(delimiter))).alias("_f"))
    return pl.concat([plain.filter(~quoted), with_quotes]).sort("source_line")


def _split_frame(
    frame: pl.DataFrame, delimiter: str, width: int, positions: dict[str, int], damaged: bool = False
) -> pl.DataFrame:
    split = _with_fields(frame, delimiter).with_columns(n=pl.col("_f").list.len())
    blank = pl.col("raw").str.strip_chars().str.len_bytes() == 0
    problem = (
        pl.when(blank).then(pl.lit("blank_line"))
        .when(pl.col("n") != width).then(pl.lit("field_count"))
        .when(pl.lit(damaged) & pl.col("raw").str.contains("\ufffd", literal=True)).then(pl.lit("encoding"))
        .otherwise(None)
    )
    detail = (
        pl.when(blank).then(pl.lit("blank line (no fields)"))
        .when(pl.col("n") != width).then(pl.format(f"expected {width} fields as in the header, found {{}}", pl.col("n")))
        .otherwise(pl.lit("line contains bytes that are not valid UTF-8 (shown as U+FFFD)"))
    )
    cols = [
        _unquote(pl.col("_f").list.get(positions[c], null_on_oob=True)).alias(c) if c in positions
        else pl.lit(None, dtype=pl.String).alias(c)
        for c in CDR_COLUMNS
    ]
    return split.select(*cols, "source_line", "raw", problem.alias("problem"), detail.alias("problem_detail"))


def _parquet_batches(path: Path, carrier: str, settings: Settings) -> Iterator[pl.DataFrame]:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(path, f"not a readable Parquet file ({one_line(exc)}); {PARQUET_EXPECTED}") from exc
    mapped = resolve_columns(path, pf.schema_arrow.names, carrier, settings)
    first = 1
    for batch in _checked_batches(path, pf.iter_batches(batch_size=settings.run.cdr.ingest_batch_rows,
                                                        columns=list(mapped.values()))):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        n = frame.height
        yield frame.select(
            *[pl.col(name).alias(canon) for canon, name in mapped.items()],
            *[pl.lit(None, dtype=pl.String).alias(c) for c in CDR_COLUMNS if c not in mapped],
            source_line=pl.int_range(first, first + n, dtype=pl.Int64),
        )
        first += n


def _checked_batches(path: Path, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Record batches; damaged pages (the footer was intact) become an :class:`InputError` naming the row."""
    rows = 0
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(path, f"Parquet data is damaged after row {rows} ({one_line(exc)}); {PARQUET_EXPECTED}") from exc
        if batch is None:
            return
        rows += batch.num_rows
        yield batch


def read_cdr_batches(path: Path, carrier: str, settings: Settings) -> Iterator[pl.DataFrame]:
    """Batches of one CDR file in canonical column names; memory is one batch whatever the file size."""
    name = path.name.lower()
    if name.endswith(".parquet"):
        return _parquet_batches(path, carrier, settings)
    if name.endswith((".csv", ".csv.gz")):
        return _csv_batches(path, carrier, settings)
    raise InputError(path, "unsupported CDR file type; expected .parquet, .csv or .csv.gz")


# --------------------------------------------------------------------------------------------- typing


def _start_time_utc(col: pl.Series, timezone: str) -> pl.Series:
    dtype = col.dtype
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            local = col.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
            return local.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
    return parse_timestamps(col.cast(pl.String), timezone)


def _as_number(col: str) -> pl.Expr:
    """Float seconds from a numeric or text column; null when not a number."""
    return pl.col(col).cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)


def _text(col: str) -> pl.Expr:
    return pl.col(col).cast(pl.String).str.strip_chars()


def _imei(col: pl.Series) -> pl.Series:
    """IMEI/IMEISV as int64 (14–17 digits); anything else (separators, letters) is null."""
    if col.dtype.is_integer():
        value = col.cast(pl.Int64)
    else:
        value = col.cast(pl.String).str.strip_chars().str.to_integer(strict=False)
    return pl.select(pl.when(value.is_between(10**13, 10**17 - 1)).then(value)).to_series().alias("imei")


def _cell_key(cell: pl.Expr) -> pl.Expr:
    """A cell id made of digits and separators (CGI "452-04-01234-5678") as int64, so distinct-cell counts
    hash integers instead of strings; other spellings keep a null key (the SQL falls back to the text)."""
    digits = cell.str.replace_all(r"[-.:/_ ]", "")
    return pl.when(digits.str.len_bytes().is_between(1, 18)).then(digits.str.to_integer(strict=False))


def type_batch(
    batch: pl.DataFrame, settings: Settings, tables: NumberingTables, source_file: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(accepted rows in spool layout, rejects) for one batch; every input row lands in exactly one.

    ``batch`` holds the canonical columns (text from CSV, native types from Parquet) and
    ``source_line``; CSV batches also carry ``raw`` and a reader-level ``problem`` per line.
    """
    tz = settings.run.timezone
    buckets = settings.run.cdr.buckets
    if "problem" not in batch.columns:
        batch = batch.with_columns(problem=pl.lit(None, dtype=pl.String), problem_detail=pl.lit(None, dtype=pl.String))
    dur = batch["duration_s"]
    frame = batch.with_columns(
        _start_time_utc(batch["start_time"], tz).alias("_ts"),
        (pl.col("duration_s").cast(pl.Float64) if dur.dtype.is_numeric() else _as_number("duration_s")).alias("_dur"),
        _text("record_id").alias("_rid"),
        _text("event_type").str.to_lowercase().alias("_ev"),
        _text("a_number").alias("_a_raw"),
        _text("b_number").alias("_b_raw"),
    )
    frame = normalise_numbers(frame, "_a_raw", tables, prefix="a_")
    frame = normalise_numbers(frame, "_b_raw", tables, prefix="b_")
    assert isinstance(frame, pl.DataFrame)

    dur_ok = pl.col("_dur").is_not_null() & pl.col("_dur").is_finite() & (pl.col("_dur") <= _MAX_DURATION_S)
    reason = (
        pl.when(pl.col("problem").is_not_null()).then(pl.col("problem"))
        .when(pl.col("_rid").is_null() | (pl.col("_rid") == "")).then(pl.lit("missing_value"))
        .when(pl.col("_ts").is_null()).then(pl.lit("bad_timestamp"))
        .when(pl.col("_dur") < 0).then(pl.lit("negative_duration"))
        .when(~dur_ok).then(pl.lit("bad_duration"))
        .when(~pl.col("_ev").is_in(EVENT_TYPES).fill_null(False)).then(pl.lit("unknown_event_type"))
        .when(pl.col("_a_raw").is_null() | (pl.col("_a_raw") == "")).then(pl.lit("empty_a_number"))
        .when(pl.col("a_e164_int").is_null()).then(pl.lit("invalid_a_number"))
        .otherwise(None)
    )
    frame = frame.with_columns(reason.alias("_reason"))
    good = frame.filter(pl.col("_reason").is_null())
    rejects = _rejects(frame.filter(pl.col("_reason").is_not_null()), source_file)

    local = pl.col("_ts").dt.convert_time_zone(tz)
    cell = pl.col("cell_id").cast(pl.String).str.strip_chars()
    accepted = good.select(
        pl.col("_rid").alias("record_id"),
        pl.col("a_e164_int").alias("a_number"),
        pl.col("b_e164_int").alias("b_number"),
        pl.col("_ts").alias("start_time"),
        local.dt.hour().cast(pl.Int8).alias("local_hour"),
        pl.col("_dur").round(0).cast(pl.Int32).alias("duration_s"),
        pl.col("_ev").alias("event_type"),
        pl.col("a_carrier").cast(pl.String).alias("a_carrier"),
        pl.when(cell.str.len_bytes() > 0).then(cell).otherwise(None).alias("cell_id"),
        _cell_key(cell).alias("cell_key"),
        _imei(good["imei"]),
        local.dt.date().alias("day"),
        (pl.col("a_e164_int") % buckets).cast(pl.Int32).alias("bucket"),
        (pl.col("b_e164_int") % buckets).cast(pl.Int32).alias("b_bucket"),
        pl.col("source_line"),
    )
    return accepted, rejects


def _rejects(bad: pl.DataFrame, source_file: str) -> pl.DataFrame:
    if bad.height == 0:
        return empty_rejects()
    q = lambda c: pl.col(c).cast(pl.String).fill_null("")  # noqa: E731
    if "raw" not in bad.columns:
        shown = [f"_shown_{c}" for c in CDR_COLUMNS]
        bad = bad.with_columns(*[q(c).alias(s) for c, s in zip(CDR_COLUMNS, shown)]).with_columns(
            raw=render_raw(shown)
        )
    detail = (
        pl.when(pl.col("_reason") == "missing_value").then(pl.lit("record_id is empty"))
        .when(pl.col("_reason") == "bad_timestamp")
        .then(pl.format("start_time '{}' is not a timestamp (expected YYYY-MM-DD HH:MM:SS local time or "
                        "ISO-8601 with an offset)", q("start_time")))
        .when(pl.col("_reason") == "bad_duration")
        .then(pl.format(f"duration_s '{{}}' is not a number of seconds between 0 and {_MAX_DURATION_S}", q("duration_s")))
        .when(pl.col("_reason") == "negative_duration").then(pl.format("duration_s '{}' is negative", q("duration_s")))
        .when(pl.col("_reason") == "unknown_event_type")
        .then(pl.format("event_type '{}' is not one of voice, sms", q("event_type")))
        .when(pl.col("_reason") == "empty_a_number").then(pl.lit("a_number is empty"))
        .when(pl.col("_reason") == "invalid_a_number")
        .then(pl.format("a_number '{}' is not a dialable number (classified {})", q("_a_raw"), q("a_kind")))
        .otherwise(pl.col("problem_detail"))
    )
    return reject_rows(
        bad.with_columns(pl.lit(source_file, dtype=pl.String).alias("source_file")),
        pl.col("raw"), pl.col("_reason"), detail,
    )


# --------------------------------------------------------------------------------------------- writing


def _existing_files(lake: Path, carrier: str, days: list[str], own: str) -> list[str]:
    """Lake files of this carrier on these days, except the ones this delivery wrote before (re-ingest)."""
    out: list[str] = []
    for day in days:
        base = cdr_root(lake) / f"carrier={carrier}" / f"day={day}"
        if base.is_dir():
            out.extend(str(p) for p in sorted(base.glob("bucket=*/*.parquet")) if not p.name.startswith(own))
    return out


def _publish(staged: Path, final_root: Path, carrier: str, name: str) -> list[str]:
    """Move ``day=/bucket=/data_0.parquet`` files into the lake under their final names (atomic renames)."""
    published: list[str] = []
    for src in sorted(staged.glob("day=*/bucket=*/*.parquet")):
        rel = src.parent.relative_to(staged)
        dest_dir = final_root / f"carrier={carrier}" / rel
        dest_dir.mkdir(parents=True, exist_ok=True)
        stem = src.stem
        suffix = "" if stem == "data_0" else "-" + stem.rsplit("_", 1)[-1]
        kill_point("cdr.publish")  # this file written under its staging name, not yet renamed
        os.replace(src, dest_dir / f"{name}{suffix}.parquet")
        published.append(f"carrier={carrier}/{rel.as_posix()}")
    return published


def remove_stale_work(lake: Path) -> list[Path]:
    """Delete ``<lake>/_work/<hash>-<pid>`` folders whose ingest process is gone.

    A SIGKILL skips the ``finally`` that removes an ingest's work folder (spool, unpublished partitions);
    the pid in the name tells an orphan from a live ingest's folder.
    """
    root = Path(lake) / "_work"
    removed: list[Path] = []
    for p in sorted(root.iterdir()) if root.is_dir() else []:
        m = re.fullmatch(r"[0-9a-f]{16}-([0-9]+)", p.name)  # only ingest folders; other stages own theirs
        if m and int(m.group(1)) != os.getpid() and not process_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def ingest_cdr_file(
    path: Path, carrier: str, settings: Settings, tables: NumberingTables, lake: Path, source_sha256: str
) -> CdrIngest:
    """Land one CDR file in the lake; re-running on the same file and hash rewrites identical files.

    Duplicates: a record id seen earlier in the same file, or already in another file of the same
    carrier-day, is dropped once per extra copy and counted (the first copy wins).
    """
    path = Path(path)
    lake = Path(lake)
    lake_layout(lake, settings)
    short = source_sha256[:16]
    remove_stale_work(lake)
    work = lake / "_work" / f"{short}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    spool = work / "spool.parquet"
    schema = pl.DataFrame(schema={**LAKE_SCHEMA, **_SPOOL_EXTRA}).to_arrow().schema
    rows_read = 0
    reject_parts: list[pl.DataFrame] = []
    try:
        with pq.ParquetWriter(spool, schema, compression="lz4") as writer:
            for batch in read_cdr_batches(path, carrier, settings):
                rows_read += batch.height
                accepted, rejects = type_batch(batch, settings, tables, str(path))
                if rejects.height:
                    reject_parts.append(rejects)
                if accepted.height:
                    writer.write_table(accepted.to_arrow().cast(schema))
        kill_point("cdr.spool")
        rejects_all = pl.concat(reject_parts) if reject_parts else empty_rejects()
        accepted_n, duplicates, partitions = _write_lake(work, spool, carrier, settings, lake, short)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    result = CdrIngest(
        rows_read=rows_read,
        rows_accepted=accepted_n,
        rows_rejected=rejects_all.height,
        rows_duplicate=duplicates,
        rejects=rejects_all.select(list(REJECT_SCHEMA)),
        partitions=partitions,
    )
    if result.rows_read != result.rows_accepted + result.rows_rejected + result.rows_duplicate:
        raise RuntimeError(f"{path}: row accounting does not add up: {result}")
    return result


def _write_lake(work: Path, spool: Path, carrier: str, settings: Settings, lake: Path, short: str) -> tuple[int, int, list[str]]:
    con = connect(":memory:", settings.run.duckdb)
    try:
        lit = {"spool": spool}
        summary = query_model(con, "staging/cdr_spool_days", literals=lit)
        if summary.height == 0:
            return 0, 0, []
        run_model(con, "staging/cdr_duplicates_in_file", literals=lit)
        days = [d.isoformat() for d in summary["day"].to_list()]
        existing = _existing_files(lake, carrier, days, short)
        if existing:
            run_model(
                con,
                "staging/cdr_duplicates_in_lake",
                {"existing": existing, "min_record_id": min(summary["min_record_id"]),
                 "max_record_id": max(summary["max_record_id"])},
                literals=lit,
            )
        out, inbound = work / "out", work / "inbound"
        written = query_model(
            con, "staging/cdr_write_lake", {"row_group_rows": settings.run.cdr.row_group_rows},
            literals={**lit, "out_dir": out},
        )
        query_model(
            con, "staging/cdr_write_inbound", {"row_group_rows": settings.run.cdr.row_group_rows},
            literals={**lit, "out_dir": inbound},
        )
        dropped = int(query_model(con, "staging/cdr_dropped_count")["dropped"][0])
    finally:
        con.close()
    partitions = _publish(out, cdr_root(lake), carrier, short)
    kill_point("cdr.inbound")  # caller-side files published, callee-side projection not yet
    _publish(inbound, inbound_root(lake), carrier, short)
    return int(written[written.columns[0]][0]), dropped, partitions
