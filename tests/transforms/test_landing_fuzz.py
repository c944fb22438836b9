"""Fuzz target "loaders end to end": generated files of every inbox kind through ``land_delivery``.

Each example is a few rows of one kind (5656 reports, complaints, CDRs, subscriber snapshots, ported
numbers, decisions) — valid rows, rows with hostile cells (tests/transforms/test_readers_fuzz.py), wrong
field counts, blank lines — or one request JSON. Examples of the same kind and file format are written
into one file (CSV, CSV.gz, JSONL, Parquet) and landed in an in-memory warehouse with the real schema.
``land_delivery`` must never raise; a file is loaded or failed (an ``InputError``, naming the file); a
failed file lands nothing; and for every file the ledger identity
``rows_read = accepted + rejected + duplicates`` holds, with its rejects recorded row for row
(``ledger_mismatches`` empty) and ``rows_read`` equal to the records the file holds.

Landing costs ~50 ms a file (a transaction, a parse, for CDRs a lake write), so 100 examples share a
file (tests/fuzzing.py); the warehouse and the lake are rebuilt every 100 files to keep each check cheap.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import strategies as st

from tests.fuzzing import run_fuzz
from tests.transforms.test_cdr_fuzz import LAYOUTS as CDR_LAYOUTS, FileShape, _write as write_cdr, cdr_row, values_lines
from tests.transforms.test_readers_fuzz import HOSTILE, CsvCase, cells, render, request_files
from transforms.cdr import CDR_REJECT_REASONS
from transforms.complaints import COMPLAINT_OPTIONAL, COMPLAINT_REQUIRED
from transforms.decisions import DECISION_OPTIONAL, DECISION_REQUIRED
from transforms.ingest import Delivery, IngestContext, land_delivery, ledger_mismatches, sha256_of
from transforms.landing import LANDERS
from transforms.numbers import NumberingTables
from transforms.pseudonym import KEY_ENV
from transforms.readers import REJECT_REASONS
from transforms.registry import PORTED_REQUIRED, REGISTRY_REJECT_REASONS, SUBSCRIBER_OPTIONAL, SUBSCRIBER_REQUIRED
from transforms.sms5656 import REPORT_OPTIONAL, REPORT_REQUIRED
from transforms.warehouse import run_folder

KNOWN_REASONS = set(REJECT_REASONS) | set(CDR_REJECT_REASONS) | set(REGISTRY_REJECT_REASONS) | {"unknown_decision"}
COLUMNS = {
    "reports_5656": (REPORT_REQUIRED, REPORT_OPTIONAL),
    "complaints": (COMPLAINT_REQUIRED, COMPLAINT_OPTIONAL),
    "subscribers": (SUBSCRIBER_REQUIRED, SUBSCRIBER_OPTIONAL),
    "ported": (PORTED_REQUIRED, []),
    "decisions": (DECISION_REQUIRED, DECISION_OPTIONAL),
}
TABLE_KINDS = sorted(COLUMNS)
FILES_PER_WAREHOUSE = 100
MOBILE = ["0961000001", "+84 912 345 678", "84901234567", "0356789012", "0812341213"]
TIMES = ["2024-03-05 09:15:00", "2024-03-05T09:15:00+07:00", "05/03/2024 09:15", "2024-03-05"]
VALID: dict[str, dict[str, st.SearchStrategy[str]]] = {
    "reports_5656": {
        "received_at": st.sampled_from(TIMES[:3]),
        "reporter": st.sampled_from(MOBILE),
        "message": st.sampled_from(["V 0812341213 lua dao", "S VIETCOMBANK khoa tai khoan", "DK DNC", "V(0356789012) gia danh cong an",
                                    "S 1900 1234 quang cao", "Vâng", "V", "HUY DNC"]),
        "report_id": st.one_of(st.just(""), st.sampled_from(["R1", "R2", "R3"]), st.text("0123456789abcdef", min_size=6, max_size=6)),
    },
    "complaints": {
        "complaint_id": st.text("0123456789ABC-", min_size=1, max_size=6),
        "received_at": st.sampled_from(TIMES),
        "channel": st.sampled_from(["hotline", "web", "app", "police", "Đường dây nóng"]),
        "reported_number": st.sampled_from([*MOBILE, "VCB", "113", "0292 3899 588"]),
        "category": st.sampled_from(["Lừa đảo", "lua dao", "SCAM", "Cuộc gọi rác", "khác", "impersonation"]),
        "reporter": st.sampled_from(["", *MOBILE]),
        "description": st.sampled_from(["", "gọi giả danh công an", '=HYPERLINK("x")']),
        "occurred_at": st.sampled_from(["", *TIMES]),
    },
    "subscribers": {
        "msisdn": st.builds(lambda n: f"096{n:07d}", st.integers(0, 9_999_999)),
        "subscriber_id": st.text("0123456789S", min_size=1, max_size=8),
        "activated_on": st.sampled_from(["2022-01-10", "10/01/2022", "2022/01/10"]),
        "plan": st.sampled_from(["prepaid", "postpaid", "Prepaid"]),
        "status": st.sampled_from(["active", "one_way_blocked", "two way blocked", "terminated"]),
        "full_name": st.sampled_from(["Trần Thị Bình", "NGUYEN VAN A", ""]),
        "date_of_birth": st.sampled_from(["1985-04-12", "12/04/1985", "", "not a date"]),
        "id_type": st.sampled_from(["cccd", "cmnd", "passport"]),
        "id_number": st.text("0123456789", min_size=9, max_size=12),
        "registration_point": st.sampled_from(["own_store", "agent", "online", "ekyc"]),
        "kyc_verified": st.sampled_from(["true", "false", "có", "0"]),
        "id_issued_on": st.sampled_from(["", "2021-05-01"]),
        "id_issued_place": st.sampled_from(["", "Cục Cảnh sát QLHC về TTXH"]),
        "photo_ref": st.sampled_from(["", "store/1.jpg"]),
        "guardian_flag": st.sampled_from(["", "false"]),
    },
    "ported": {
        "msisdn": st.sampled_from(MOBILE),
        "carrier": st.sampled_from(["viettel", "MobiFone", "vina phone", "Vietnamobile", "nowhere"]),
        "ported_at": st.sampled_from([*TIMES, "2024-03-05"]),
    },
    "decisions": {
        "msisdn": st.sampled_from(MOBILE),
        "decided_at": st.sampled_from(TIMES),
        "decision": st.sampled_from(["one_way_blocked", "two_way_blocked", "cleared", "restored", "Cleared", "maybe"]),
        "case_ref": st.sampled_from(["", "C-1"]),
        "note": st.sampled_from(["", "đã xác minh"]),
    },
}


@dataclass(frozen=True)
class Shape:
    kind: str
    fmt: str  # csv | csv.gz | jsonl | parquet | json (requests)
    layout: int = 0  # which optional columns the file carries (a bit mask)


@dataclass(frozen=True)
class Example:
    shape: Shape
    rows: tuple  # dict rows (tables), CdrRow (cdr) or one request file's bytes


@st.composite
def table_rows(draw, kind: str, columns: list[str]) -> dict[str, object] | list[object]:
    row: dict[str, object] = {c: draw(VALID[kind][c]) for c in columns}
    mutation = draw(st.sampled_from(["none"] * 4 + ["hostile", "hostile", "fields", "blank"]))
    if mutation == "hostile":
        for c in draw(st.sets(st.sampled_from(columns), min_size=1, max_size=3)):
            row[c] = draw(cells)
    elif mutation == "fields":  # a record with another field count than the header
        values = list(row.values())
        return values[: draw(st.integers(0, len(values) - 1))] if draw(st.booleans()) else [*values, draw(cells)]
    elif mutation == "blank":
        return []
    return row


@st.composite
def examples(draw, mobile_prefixes: list[str]) -> Example:
    kind = draw(st.sampled_from([*TABLE_KINDS, "cdr", "requests"]))
    if kind == "requests":
        return Example(Shape(kind, "json"), (draw(request_files()),))
    if kind == "cdr":
        fmt = draw(st.sampled_from(["csv", "csv.gz", "parquet", "parquet-typed"]))
        rows = draw(st.lists(cdr_row(mobile_prefixes, fmt == "parquet-typed", fmt.startswith("csv")), min_size=1, max_size=5))
        return Example(Shape(kind, fmt, draw(st.integers(0, len(CDR_LAYOUTS) - 1))), tuple(rows))
    required, optional = COLUMNS[kind]
    layout = draw(st.integers(0, (1 << len(optional)) - 1))
    columns = required + [c for i, c in enumerate(optional) if layout >> i & 1]
    fmt = draw(st.sampled_from(["csv", "csv", "csv.gz", "jsonl", "parquet"]))
    rows = draw(st.lists(table_rows(kind, columns), min_size=1, max_size=5))
    return Example(Shape(kind, fmt, layout), tuple(rows))


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def write_table_file(path: Path, shape: Shape, columns: list[str], rows: list) -> int:
    """Write the rows; returns how many records the reader must report (``rows_read``), -1 if not known."""
    if shape.fmt == "parquet":
        records = [r if isinstance(r, dict) else dict(zip(columns, r)) for r in rows]
        data = {c: [_text(r[c]) if r.get(c) is not None else None for r in records] for c in columns}
        pl.DataFrame(data, schema={c: pl.String for c in columns}).write_parquet(path)
        return len(rows)
    if shape.fmt == "jsonl":
        lines = []
        for r in rows:
            if isinstance(r, dict):
                raw = {c: v for c, v in r.items() if not isinstance(v, bytes)}
                line = json.dumps(raw, ensure_ascii=False).encode("utf-8")
                bad = [v for v in r.values() if isinstance(v, bytes)]
                lines.append(line[:-1] + b', "x": "' + bad[0].replace(b'"', b"").replace(b"\\", b"") + b'"}' if bad else line)
            else:  # a record that is no object
                lines.append(json.dumps([_text(v) for v in r], ensure_ascii=False).encode("utf-8") if r else b"")
        # A line break inside a JSON string is escaped; the only breaks are between records.
        path.write_bytes(b"\n".join(line.replace(b"\r", b"").replace(b"\n", b"") for line in lines) + b"\n")
        return len(rows)
    header = columns
    body = [[r.get(c, "") for c in columns] if isinstance(r, dict) else list(r) for r in rows]
    case = CsvCase(shape.kind, header, body, "minimal", ",", "\n", False, shape.fmt == "csv.gz", None)
    data, _ = render(case)
    path.write_bytes(data)
    return len(rows) if case.proper else -1


class Warehouse:
    """An in-memory warehouse with the schema, rebuilt (with a fresh lake) every FILES_PER_WAREHOUSE files."""

    def __init__(self, settings, tables: NumberingTables, root: Path):
        self.settings, self.tables, self.root = settings, tables, root
        self.files = 0
        self.generation = 0
        self.con: duckdb.DuckDBPyConnection | None = None
        self.ctx: IngestContext | None = None
        self.snapshot_day = date(2024, 1, 1)

    def fresh(self) -> None:
        if self.con is not None:
            self.con.close()
        self.generation += 1
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.con = duckdb.connect()
        self.con.execute("SET TimeZone = 'UTC'")
        run_folder(self.con, "schema")
        self.ctx = IngestContext(self.settings, self.tables, f"fuzz-{self.generation}", self.root / "lake")
        self.files = 0

    def land(self, path: Path, kind: str, carrier: str | None, expected_read: int) -> int:
        if self.con is None or self.files >= FILES_PER_WAREHOUSE:
            self.fresh()
        try:
            return self._land(path, kind, carrier, expected_read)
        except BaseException:
            assert self.con is not None
            self.con.close()
            self.con = None  # a finding: bisection re-checks on a fresh warehouse, where the file is new again
            raise

    def _land(self, path: Path, kind: str, carrier: str | None, expected_read: int) -> int:
        assert self.con is not None and self.ctx is not None
        self.files += 1
        d = Delivery(path, kind, carrier, sha256_of(path), path.stat().st_size)
        if self.con.execute("SELECT count(*) FROM ingest_log WHERE sha256 = ?", [d.sha256]).fetchone()[0]:
            return 0  # the same bytes twice: a re-delivery, which the run skips before landing
        landed = land_delivery(self.con, d, self.ctx, LANDERS)
        assert landed.status in ("loaded", "failed"), landed
        row = self.con.execute(
            "SELECT status, rows_read, rows_accepted, rows_rejected, rows_duplicate FROM ingest_log WHERE sha256 = ?",
            [d.sha256],
        ).fetchall()
        assert row == [(landed.status, landed.rows_read, landed.rows_accepted, landed.rows_rejected, landed.rows_duplicate)]
        if landed.status == "failed":
            assert landed.error and path.name in landed.error, landed.error
            assert (landed.rows_read, landed.rows_accepted, landed.rows_rejected, landed.rows_duplicate) == (0, 0, 0, 0)
        else:
            assert landed.rows_read == landed.rows_accepted + landed.rows_rejected + landed.rows_duplicate, landed
            if expected_read >= 0:
                assert landed.rows_read == expected_read, (landed, expected_read)
            reasons = {r for (r,) in self.con.execute("SELECT DISTINCT reason FROM rejects WHERE sha256 = ?", [d.sha256]).fetchall()}
            assert reasons <= KNOWN_REASONS, reasons - KNOWN_REASONS
        mismatches = ledger_mismatches(self.con)
        assert mismatches.is_empty(), mismatches
        return max(landed.rows_read, 1)


def check_batch(warehouse: Warehouse, folder: Path, batch: list[Example]) -> int:
    shape = batch[0].shape
    if shape.kind == "requests":
        total = 0
        for i, example in enumerate(batch):
            target = folder / "requests" / f"request_{i}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(example.rows[0])
            total += warehouse.land(target, "requests", None, 1)
        return total
    if shape.kind == "cdr":
        rows = [r for e in batch for r in e.rows]
        values = [{**r.values, "record_id": r.values.get("record_id", f"fz-{i}")} for i, r in enumerate(rows)]
        target = folder / "cdr" / "viettel" / f"cdr_viettel.{shape.fmt.removesuffix('-typed')}"
        target.parent.mkdir(parents=True, exist_ok=True)
        fshape = FileShape(shape.fmt, shape.layout)
        write_cdr(target, fshape, CDR_LAYOUTS[shape.layout], values)
        expected = len(rows) if shape.fmt.startswith("parquet") else sum(
            values_lines(row, CDR_LAYOUTS[shape.layout], fshape) for row in values
        )
        return warehouse.land(target, "cdr", "viettel", expected)
    required, optional = COLUMNS[shape.kind]
    columns = required + [c for i, c in enumerate(optional) if shape.layout >> i & 1]
    rows = [r for e in batch for r in e.rows]
    carrier = "viettel" if shape.kind == "subscribers" else None
    sub = f"{shape.kind}/viettel" if carrier else shape.kind
    name = shape.kind
    if shape.kind == "subscribers":
        warehouse.snapshot_day += timedelta(days=1)
        name = f"subscribers_viettel_{warehouse.snapshot_day:%Y%m%d}"
    target = folder / sub / f"{name}.{shape.fmt}"
    target.parent.mkdir(parents=True, exist_ok=True)
    expected = write_table_file(target, shape, columns, rows)
    return warehouse.land(target, shape.kind, carrier, expected)


@pytest.mark.fuzz
def test_fuzz_loaders_end_to_end(settings, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(KEY_ENV, "5e" * 32)
    tables = NumberingTables.from_settings(settings)
    warehouse = Warehouse(settings, tables, tmp_path / "warehouse")
    prefixes = sorted(p for c in settings.carriers for p in c.prefixes)
    try:
        run_fuzz(
            "loaders end to end",
            examples(prefixes),
            lambda batch: check_batch(warehouse, tmp_path / "inbox", batch),
            default=300,
            batch=100,
            group=lambda e: e.shape,
        )
    finally:
        if warehouse.con is not None:
            warehouse.con.close()


def test_hostile_cells_cover_the_brief() -> None:
    """The cells the loaders are fed include every hostile kind the issue names."""
    joined = "".join(HOSTILE)
    for needle in ('"', ",", "\r", "\n", "\x00", "\ufeff", "\u202e"):
        assert needle in joined, repr(needle)


def test_a_decision_file_with_empty_cells_lands_with_rejects(settings, tmp_path: Path) -> None:
    """Found by the fuzzer: an empty decision cell passed the checks and hit stg_decisions' NOT NULL, so
    the whole landing raised instead of rejecting the row."""
    folder = tmp_path / "decisions"
    folder.mkdir()
    path = folder / "decisions.csv"
    path.write_text(
        "msisdn,decided_at,decision\n0961000001,2024-03-05 09:00:00,\n0961000001,2024-03-05 09:00:00,cleared\n,,\n",
        encoding="utf-8",
    )
    warehouse = Warehouse(settings, NumberingTables.from_settings(settings), tmp_path / "wh")
    assert warehouse.land(path, "decisions", None, 3) == 3
    assert warehouse.con is not None
    rows = warehouse.con.execute("SELECT source_line, reason FROM rejects ORDER BY source_line").fetchall()
    assert rows == [(2, "unknown_decision"), (4, "invalid_number")]
    assert warehouse.con.execute("SELECT decision FROM stg_decisions").fetchall() == [("cleared",)]
