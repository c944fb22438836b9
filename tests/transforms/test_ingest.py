"""Corrupt inbox entries, every kind: each fails alone with a message naming it, is one failed ledger row
that a rerun does not duplicate, lands nothing, and lands normally once a good file is delivered there.

Good bytes come from a small simulated inbox (one day, 500 subscribers): each sample is split in two
halves, A (a good sibling delivered next to the corrupt entry, which must still land) and B (the content
the corrupt entry damages, and later the fix).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from transforms.config import load_config
from transforms.ingest import (
    PROBLEM_KEY_PREFIX, Delivery, IngestContext, Landed, land_delivery, ledger_mismatches, plan_ingest, problem_key,
    sha256_of, shown,
)
from transforms.landing import LANDERS
from transforms.numbers import NumberingTables
from transforms.pseudonym import KEY_ENV
from transforms.simulate import SimulationSpec, simulate_inbox
from transforms.warehouse import run_folder

DAY = date(2024, 3, 5)
CARRIER = "reddi"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass(frozen=True)
class Variant:
    """One kind in one of its delivery formats; ``natural`` is its usual suffix."""

    kind: str
    natural: str
    sample: str

    @property
    def carrier(self) -> str | None:
        return CARRIER if self.kind in ("cdr", "subscribers") else None


VARIANTS = {
    "reports_5656": Variant("reports_5656", ".csv", "reports_5656/reports_5656_20240305.csv"),
    "complaints": Variant("complaints", ".csv", "complaints/complaints_20240305.csv"),
    "complaints_jsonl": Variant("complaints", ".jsonl", "complaints/complaints_app_20240305.jsonl"),
    "requests": Variant("requests", ".json", "requests"),
    "ported": Variant("ported", ".csv", "ported/ported_20240305.csv"),
    "decisions": Variant("decisions", ".csv", "decisions/decisions_20240305.csv"),
    "cdr_parquet": Variant("cdr", ".parquet", "cdr/reddi/cdr_reddi_20240305.parquet"),
    "cdr_csv_gz": Variant("cdr", ".csv.gz", "cdr/reddi/cdr_reddi_20240305.csv.gz"),
    "subscribers": Variant("subscribers", ".csv", "subscribers/reddi/subscribers_reddi_20240305.csv"),
}


class Samples:
    """Good bytes of half A or B of each variant's sample, in any format the variant's kind accepts."""

    def __init__(self, parquet_inbox: Path, csv_inbox: Path):
        self.frames: dict[str, pl.DataFrame] = {}
        self.requests = sorted((parquet_inbox / "requests").glob("*.json"))
        for name, v in VARIANTS.items():
            if v.kind == "requests":
                continue
            src = (csv_inbox if v.natural == ".csv.gz" else parquet_inbox) / v.sample
            if src.name.endswith(".parquet"):
                frame = pl.read_parquet(src)
            elif src.name.endswith(".jsonl"):
                frame = pl.read_ndjson(src, schema={k: pl.String for k in json.loads(src.read_text().split("\n")[0])})
            else:
                frame = pl.read_csv(src, infer_schema=False)
            assert frame.height >= 2, f"{src}: a sample needs two rows to split"
            self.frames[name] = frame

    def frame(self, variant: str, half: str) -> pl.DataFrame:
        f = self.frames[variant]
        cut = f.height // 2
        return f.head(cut) if half == "A" else f.slice(cut)

    def good(self, variant: str, half: str, suffix: str) -> bytes:
        if VARIANTS[variant].kind == "requests":
            return self.requests[0 if half == "A" else 1].read_bytes()
        return encode(self.frame(variant, half), suffix)


def encode(frame: pl.DataFrame, suffix: str) -> bytes:
    if suffix == ".parquet":
        buf = io.BytesIO()
        frame.write_parquet(buf)
        return buf.getvalue()
    if suffix == ".jsonl":
        return frame.write_ndjson().encode()
    text = frame.with_columns(pl.all().cast(pl.String)).write_csv().encode()
    return gzip.compress(text, mtime=0) if suffix == ".csv.gz" else text


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> Samples:
    root = tmp_path_factory.mktemp("samples")
    settings = load_config()
    for fmt in ("parquet", "csv.gz"):
        spec = SimulationSpec(subscribers=500, days=1, end_date=DAY, seed=3, cdr_format=fmt)  # type: ignore[arg-type]
        simulate_inbox(spec, settings, root / fmt / "inbox", root / fmt / "truth")
    return Samples(root / "parquet" / "inbox", root / "csv.gz" / "inbox")


@pytest.fixture(autouse=True)
def _pseudonym_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "5e" * 32)


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    run_folder(c, "schema")
    yield c
    c.close()


@pytest.fixture
def ctx(settings, tmp_path: Path) -> IngestContext:
    return IngestContext(settings, NumberingTables.from_settings(settings), "run-test", tmp_path / "lake")


def run_inbox(con, inbox: Path, ctx: IngestContext) -> list[tuple[Delivery, Landed]]:
    """What one run's ingest does: plan (problems included), then land each new entry in its own transaction."""
    plan = plan_ingest(con, inbox, ctx.settings.carrier_slugs())
    return [(d, land_delivery(con, d, ctx, LANDERS)) for d in plan.new]


def ledger(con) -> list[tuple]:
    return con.execute(
        "SELECT sha256, source_file, status, error, rows_read, rows_accepted, rows_rejected, rows_duplicate "
        "FROM ingest_log ORDER BY source_file, sha256"
    ).fetchall()


def rows_from(con, key: str) -> dict[str, int]:
    """Rows any warehouse table (the ledger aside) holds from the delivery ``key``: none, for a failed one."""
    cols = con.execute(
        "SELECT table_name, column_name FROM duckdb_columns() WHERE column_name IN ('sha256', 'source_sha256') "
        "AND table_name <> 'ingest_log' AND NOT internal"
    ).fetchall()
    assert ("rejects", "sha256") in cols and ("stg_complaints", "source_sha256") in cols
    found = {t: con.execute(f'SELECT count(*) FROM "{t}" WHERE "{c}" = $k', {"k": key}).fetchall()[0][0] for t, c in cols}
    return {t: n for t, n in found.items() if n}


def count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]


# --------------------------------------------------------------------------------------------- corruptions


def _flip_middle(data: bytes, width: int = 24) -> bytes:
    out = bytearray(data)
    mid = len(out) // 2
    for i in range(mid, min(mid + width, len(out) - 12)):
        out[i] ^= 0x5A
    return bytes(out)


def _damage_parquet_pages(data: bytes) -> bytes:
    """Flip bytes in the column data, keeping the header magic and the footer: only reading pages finds it."""
    footer = int.from_bytes(data[-8:-4], "little") + 8
    out = bytearray(data)
    for i in range(4, len(out) - footer, 3):
        out[i] ^= 0xA5
    return bytes(out)


def _missing(variant: str, samples: Samples, suffix: str) -> tuple[bytes, str]:
    """B without its second required field, and the expected message."""
    v = VARIANTS[variant]
    if v.kind == "requests":
        doc = json.loads(samples.good(variant, "B", suffix))
        del doc["numbers"]
        return json.dumps(doc).encode(), r"invalid request: numbers: Field required"
    frame = samples.frame(variant, "B")
    col = frame.columns[1]
    data = encode(frame.drop(col), suffix)
    if suffix == ".jsonl":
        return data, rf"column '{col}': required key '{col}' is absent or null on every line \(expected keys"
    return data, rf"line 1, column '{col}': required (CDR )?column '{col}' is missing .*expected \["


def _whitespace(suffix: str) -> tuple[bytes, str]:
    blank = b"  \r\n\t\n\n   \n"
    if suffix == ".json":
        return blank, r"line \d+: not valid JSON: Expecting value \(column \d+\)"
    if suffix == ".jsonl":
        return blank, r"line 1: file is empty \(no JSON line\); expected one JSON object per line"
    if suffix == ".parquet":
        return blank, r"not a readable Parquet file .*expected a complete Parquet file"
    data = gzip.compress(blank, mtime=0) if suffix == ".csv.gz" else blank
    return data, r"line 1: file is empty; expected a header line naming the (CDR )?columns"


@dataclass(frozen=True)
class Corruption:
    """``make`` damages the entry at ``path`` (whose good content is ``good``), returning the expected message."""

    name: str
    suffix: str | None  # None: the variant's natural suffix
    make: Callable[[Path, bytes, str, Samples], str]
    hashless: bool = False  # keyed by its place in the inbox, not by content

    def fix(self, path: Path, good: bytes) -> None:
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.chmod(0o644)
        path.write_bytes(good)


def _write(data: bytes, expect: str) -> Callable[[Path, bytes, str, Samples], str]:
    def make(path: Path, good: bytes, variant: str, samples: Samples) -> str:
        path.write_bytes(data)
        return expect
    return make


def _from_good(fn: Callable[[bytes], bytes], expect: str) -> Callable[[Path, bytes, str, Samples], str]:
    def make(path: Path, good: bytes, variant: str, samples: Samples) -> str:
        path.write_bytes(fn(good))
        return expect
    return make


def _make_missing(path: Path, good: bytes, variant: str, samples: Samples) -> str:
    data, expect = _missing(variant, samples, "".join(path.suffixes[-2:]) if path.name.endswith(".gz") else path.suffix)
    path.write_bytes(data)
    return expect


def _make_whitespace(path: Path, good: bytes, variant: str, samples: Samples) -> str:
    data, expect = _whitespace(".csv.gz" if path.name.endswith(".csv.gz") else path.suffix)
    path.write_bytes(data)
    return expect


def _make_directory(path: Path, good: bytes, variant: str, samples: Samples) -> str:
    path.mkdir()
    (path / "inside.csv").write_bytes(good)
    return rf"{VARIANTS[variant].kind}.*: a directory where a {VARIANTS[variant].kind} file was expected"


def _make_unreadable(path: Path, good: bytes, variant: str, samples: Samples) -> str:
    path.write_bytes(good)
    path.chmod(0)
    return r"cannot read \(Permission denied\); expected a file the run can read"


def _gz_bad_crc(good: bytes) -> bytes:
    out = bytearray(good)
    out[-8] ^= 0xFF  # the CRC-32 of the uncompressed data, checked at the end of the stream
    return bytes(out)


GZ = "expected a complete gzip stream"
PQ = "expected a complete Parquet file"
FORMAT_CORRUPTIONS = [
    Corruption("truncated_parquet", ".parquet", _from_good(lambda b: b[: len(b) // 2], rf"not a readable Parquet file .*{PQ}")),
    Corruption("damaged_parquet_pages", ".parquet", _from_good(
        _damage_parquet_pages, rf"(Parquet data is damaged after row \d+|not a readable Parquet file) .*{PQ}")),
    Corruption("gzip_bad_crc", ".csv.gz", _from_good(_gz_bad_crc, rf"the gzip data is damaged \(CRC check failed .*{GZ}")),
    Corruption("gzip_truncated", ".csv.gz", _from_good(lambda b: b[: len(b) * 2 // 3], rf"the gzip data ends early .*{GZ}")),
    Corruption("gzip_damaged_stream", ".csv.gz", _from_good(_flip_middle, rf"the gzip data is damaged .*{GZ}")),
]
ENTRY_CORRUPTIONS = [
    Corruption("missing_required_column", None, _make_missing),
    Corruption("whitespace_only", None, _make_whitespace),
    Corruption("zero_bytes", None, _write(b"", r"file is empty \(0 bytes\); expected "), hashless=True),
    Corruption("directory", None, _make_directory, hashless=True),
    Corruption("unreadable_chmod_000", None, _make_unreadable, hashless=True),
]
CASES = [
    pytest.param(v, c, id=f"{v}-{c.name}")
    for v in VARIANTS
    for c in [*ENTRY_CORRUPTIONS, *(FORMAT_CORRUPTIONS if VARIANTS[v].kind != "requests" else [])]
    # one .csv.gz / .parquet variant of cdr is enough for the format corruptions
    if not (v == "cdr_csv_gz" and c.suffix is not None)
]


def _place(inbox: Path, variant: str, name: str) -> Path:
    v = VARIANTS[variant]
    folder = inbox / v.kind / (v.carrier or "")
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


@pytest.mark.parametrize(("variant", "corruption"), CASES)
def test_corrupt_entry_fails_alone_once_and_lands_when_fixed(con, ctx, samples, tmp_path, variant, corruption):
    if corruption.name == "unreadable_chmod_000" and IS_ROOT:
        pytest.skip("running as root: chmod 000 does not stop root reading; "
                    "test_unreadable_entry_is_a_keyed_problem covers this path with an injected PermissionError")
    v = VARIANTS[variant]
    suffix = corruption.suffix or v.natural
    inbox = tmp_path / "inbox"
    sibling = _place(inbox, variant, f"good_20240305{v.natural}")
    sibling.write_bytes(samples.good(variant, "A", v.natural))
    bad = _place(inbox, variant, f"a_bad_20240305{suffix}")  # sorts first: the good sibling lands after the failure
    good = samples.good(variant, "B", suffix)
    expect = corruption.make(bad, good, variant, samples)

    by_path = {d.path: (d, r) for d, r in run_inbox(con, inbox, ctx)}
    assert by_path[sibling][1].status == "loaded", by_path[sibling][1].error
    assert by_path[sibling][1].rows_read > 0
    d, failed = by_path[bad]
    assert failed.status == "failed"
    assert failed.error.startswith(shown(bad)), failed.error
    assert re.search(expect, failed.error), f"{failed.error!r} does not match {expect!r}"
    key = problem_key(inbox, bad) if corruption.hashless else sha256_of(bad)
    assert d.sha256 == key and key.startswith(PROBLEM_KEY_PREFIX) == corruption.hashless
    (row,) = [r for r in ledger(con) if r[0] == key]
    assert row[1:] == (shown(bad), "failed", failed.error, 0, 0, 0, 0)  # nothing of it was read into the warehouse
    assert rows_from(con, key) == {}
    assert v.kind == "cdr" or rows_from(con, sha256_of(sibling)), "the check sees the rows of a landed file"
    assert ledger_mismatches(con).height == 0
    if v.kind == "cdr":
        assert not [p for p in (ctx.lake).rglob("*.parquet") if p.name.startswith(key[:16])]

    # a rerun of the same inbox: the same entry fails again, the ledger gains no row
    before = ledger(con)
    again = run_inbox(con, inbox, ctx)
    assert [(x.path, r.status) for x, r in again] == [(bad, "failed")]
    assert [r[:3] for r in ledger(con)] == [r[:3] for r in before]

    # fixed and re-delivered at the same place: it lands under its content hash, exactly once
    corruption.fix(bad, good)
    fixed = run_inbox(con, inbox, ctx)
    assert [(x.path, r.status) for x, r in fixed] == [(bad, "loaded")], [r.error for _, r in fixed]
    assert fixed[0][0].sha256 == sha256_of(bad) and fixed[0][1].rows_read > 0
    assert len(ledger(con)) == len(before) + 1
    assert ledger_mismatches(con).height == 0
    assert run_inbox(con, inbox, ctx) == []


def test_unreadable_entry_is_a_keyed_problem(con, ctx, samples, tmp_path, monkeypatch):
    """chmod 000 cannot stop root, so inject the PermissionError the hash would hit; runs as any user."""
    import transforms.ingest as ingest

    inbox = tmp_path / "inbox"
    bad = _place(inbox, "decisions", "locked.csv")
    bad.write_bytes(samples.good("decisions", "B", ".csv"))
    real = ingest.sha256_of

    def locked(path: Path) -> str:
        if path == bad:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(ingest, "sha256_of", locked)
    ((d, r),) = run_inbox(con, inbox, ctx)
    assert (d.sha256, r.status) == (problem_key(inbox, bad), "failed")
    assert r.error == f"{bad}: cannot read (Permission denied); expected a file the run can read"
    assert run_inbox(con, inbox, ctx)[0][1].status == "failed" and count(con, "ingest_log") == 1
    monkeypatch.setattr(ingest, "sha256_of", real)
    ((d, r),) = run_inbox(con, inbox, ctx)
    assert (d.sha256, r.status) == (sha256_of(bad), "loaded")
    assert count(con, "ingest_log") == 2


@pytest.mark.parametrize("kind", ["cdr", "subscribers"])
def test_carrier_folder_that_is_a_file_is_a_problem_until_it_is_a_folder(con, ctx, samples, tmp_path, kind):
    inbox = tmp_path / "inbox"
    variant = "cdr_parquet" if kind == "cdr" else "subscribers"
    good = samples.good(variant, "A", VARIANTS[variant].natural)
    (inbox / kind).mkdir(parents=True)
    (inbox / kind / CARRIER).write_bytes(good)  # the export written as the folder's name
    ((d, r),) = run_inbox(con, inbox, ctx)
    assert r.status == "failed" and d.sha256 == problem_key(inbox, inbox / kind / CARRIER)
    assert r.error == f"{inbox / kind / CARRIER}: a file where the folder {kind}/{CARRIER}/ was expected"
    assert [x.status for _, x in run_inbox(con, inbox, ctx)] == ["failed"] and count(con, "ingest_log") == 1
    (inbox / kind / CARRIER).unlink()
    fixed = _place(inbox, variant, f"{kind}_{CARRIER}_20240305{VARIANTS[variant].natural}")
    fixed.write_bytes(good)
    assert [(x.path, r.status) for x, r in run_inbox(con, inbox, ctx)] == [(fixed, "loaded")]
    assert count(con, "ingest_log") == 2


def test_misplaced_entries_are_problems_each_with_its_own_row(con, ctx, tmp_path, monkeypatch):
    import transforms.ingest as ingest

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "complaints").write_text("a file where the folder should be")
    (inbox / "cdr" / "acme").mkdir(parents=True)  # not a configured carrier
    (inbox / "cdr" / "stray.csv").write_text("x")
    (inbox / "subscribers" / CARRIER).mkdir(parents=True)
    (inbox / "ported").mkdir()
    (inbox / "ported" / "empty_1.csv").write_bytes(b"")
    (inbox / "decisions").mkdir()
    (inbox / "decisions" / "empty_2.csv").write_bytes(b"")  # same (empty) content: still its own row
    (inbox / "decisions" / ".hidden.csv").write_bytes(b"")  # hidden and in-progress names are not deliveries
    (inbox / "decisions" / "upload.csv.part").write_bytes(b"")
    real = ingest._list_folder

    def unlistable(folder: Path) -> list[Path]:
        if folder.name == CARRIER:
            raise PermissionError(13, "Permission denied", str(folder))
        return real(folder)

    monkeypatch.setattr(ingest, "_list_folder", unlistable)
    landed = run_inbox(con, inbox, ctx)
    errors = sorted(r.error.removeprefix(str(inbox) + "/") for _, r in landed)
    carriers = ctx.settings.carrier_slugs()
    assert errors == sorted([
        "complaints: a file where the complaints/ folder was expected",
        f"cdr/acme: unknown carrier folder 'acme'; expected one of {carriers}",
        f"cdr/stray.csv: cdr files belong in cdr/<carrier>/ (carrier one of {carriers})",
        f"subscribers/{CARRIER}: cannot list the folder subscribers/{CARRIER}/ (Permission denied); "
        "expected a folder the run can read",
        "ported/empty_1.csv: file is empty (0 bytes); expected a header line naming the columns",
        "decisions/empty_2.csv: file is empty (0 bytes); expected a header line naming the columns",
    ])
    assert {r.status for _, r in landed} == {"failed"}
    assert count(con, "ingest_log") == 6
    assert {d.sha256 for d, _ in run_inbox(con, inbox, ctx)} == {d.sha256 for d, _ in landed}
    assert count(con, "ingest_log") == 6
    plan = plan_ingest(con, inbox, carriers)
    assert len(plan.problems) == 6 and plan.input_hashes == frozenset()  # places are not content: no run-id input


def test_file_name_that_is_not_utf8_is_a_problem_not_a_crash(con, ctx, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "ported").mkdir(parents=True)
    raw = os.fsencode(inbox / "ported") + b"/bad\xff.csv"
    with open(raw, "wb") as fh:
        fh.write(b"msisdn,carrier,ported_at\n")
    ((d, r),) = run_inbox(con, inbox, ctx)
    assert r.status == "failed" and "\ufffd" in r.error and "not valid UTF-8" in r.error
    assert ledger(con)[0][1].endswith("bad\ufffd.csv")


def test_identical_bytes_twice_in_one_inbox_land_once_and_balance(con, ctx, samples, tmp_path):
    """Landing both copies would record the rejects twice and fail the ledger identity (the run would stop)."""
    inbox = tmp_path / "inbox"
    data = samples.good("complaints", "A", ".csv") + b"not,a,complaint\n"
    for name in ("a.csv", "b.csv"):
        _place(inbox, "complaints", name).write_bytes(data)
    plan = plan_ingest(con, inbox, ctx.settings.carrier_slugs())
    assert [d.path.name for d in plan.new] == ["a.csv"] and plan.known == 1
    (landed,) = [land_delivery(con, d, ctx, LANDERS) for d in plan.new]
    assert landed.status == "loaded" and landed.rows_rejected == 1
    assert ledger_mismatches(con).height == 0


def test_unchanged_subscriber_snapshot_for_two_days_lands_twice_and_balances(con, ctx, samples, tmp_path):
    """The day is in the name: both snapshots apply. They share one ledger key, so the second landing's
    rejects replace the first's (before: counted twice, the ledger identity failed and the run stopped)."""
    inbox = tmp_path / "inbox"
    data = samples.good("subscribers", "A", ".csv") + b"not,a,subscriber\n"
    for day in ("20240228", "20240305"):
        _place(inbox, "subscribers", f"subscribers_{CARRIER}_{day}.csv").write_bytes(data)
    landed = run_inbox(con, inbox, ctx)
    assert [(d.path.name[-12:], r.status, r.rows_rejected) for d, r in landed] == [
        ("20240228.csv", "loaded", 1), ("20240305.csv", "loaded", 1)]
    assert count(con, "rejects") == 1
    assert ledger_mismatches(con).height == 0


@pytest.mark.parametrize("variant", ["reports_5656", "complaints", "ported", "decisions", "cdr_csv_gz", "subscribers"])
def test_header_only_csv_is_an_empty_delivery_not_a_failure(con, ctx, samples, tmp_path, variant):
    """An exporter with nothing to send writes the header: 0 rows read, loaded. A full subscriber snapshot
    with no row would mean every subscriber left, so that one is refused."""
    v = VARIANTS[variant]
    header = samples.frame(variant, "A").head(0)
    path = _place(tmp_path / "inbox", variant, f"empty_20240305{v.natural}")
    path.write_bytes(encode(header, v.natural))
    ((_, r),) = run_inbox(con, tmp_path / "inbox", ctx)
    if v.kind == "subscribers":
        assert r.status == "failed" and "no row of this full snapshot could be accepted (0 read)" in r.error
    else:
        assert (r.status, r.rows_read, r.rows_accepted, r.rows_rejected) == ("loaded", 0, 0, 0)
    assert ledger_mismatches(con).height == 0


def test_jsonl_with_no_json_object_fails_naming_the_first_line(con, ctx, tmp_path):
    path = _place(tmp_path / "inbox", "complaints", "c.jsonl")
    path.write_text("\ncomplaint_id,received_at\nKN1,2024-03-05\n")
    ((_, r),) = run_inbox(con, tmp_path / "inbox", ctx)
    assert r.status == "failed"
    assert r.error == f"{path}, line 2: no line is a JSON object; expected one JSON object per line (JSON Lines)"


def test_damaged_gzip_cdr_names_how_far_it_was_read(con, ctx, samples, tmp_path, monkeypatch):
    import transforms.cdr as cdr

    monkeypatch.setattr(cdr, "_CSV_CHUNK_BYTES", 512)  # several chunks: the CRC fails on the last one
    path = _place(tmp_path / "inbox", "cdr_csv_gz", "cdr_reddi_20240305.csv.gz")
    good = samples.good("cdr_csv_gz", "B", ".csv.gz")
    path.write_bytes(_gz_bad_crc(good))
    ((_, r),) = run_inbox(con, tmp_path / "inbox", ctx)
    lines = zlib.decompress(good, wbits=31).count(b"\n")
    found = re.search(r"CRC check failed .* \(found after line (\d+)\)$", r.error)
    assert r.status == "failed" and found, r.error
    assert 0 < int(found.group(1)) <= lines
    assert not ctx.lake.exists() or not list(ctx.lake.rglob("*.parquet"))  # nothing of it was published
