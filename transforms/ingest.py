"""Inbox → warehouse: find delivered files, land each new one exactly once, account for every row.

A file is identified by its SHA-256, so a re-delivered identical file is a no-op and a corrected file with
the same name is a new delivery. Each file lands in one DuckDB transaction together with its ledger row
and its rejects: a crash leaves either all of it or none of it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import Settings
from transforms.numbers import NumberingTables
from transforms.readers import InputError
from transforms.warehouse import query_model, run_model, transaction

log = logging.getLogger("subflag.ingest")

FLAT_KINDS = ("reports_5656", "complaints", "requests", "ported", "decisions")
PER_CARRIER_KINDS = ("cdr", "subscribers")
SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".parquet", ".json")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Delivery:
    path: Path
    kind: str
    carrier: str | None
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Problem:
    """A thing in the inbox that is not a landable file (unknown folder, a directory, unreadable)."""

    path: Path
    message: str


@dataclass
class Landed:
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    status: str = "loaded"
    error: str | None = None
    extra: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestContext:
    settings: Settings
    tables: NumberingTables
    run_id: str
    lake: Path


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _is_candidate_file(p: Path) -> bool:
    name = p.name
    return not name.startswith(".") and not name.endswith((".tmp", ".part")) and name.endswith(SUFFIXES)


def discover_deliveries(
    inbox: Path, carriers: list[str], kinds: frozenset[str] | None = None
) -> tuple[list[Delivery], list[Problem]]:
    """List every landable file in the inbox, in a stable order (kind, carrier, name); hash only ``kinds``."""
    found: list[Delivery] = []
    problems: list[Problem] = []

    def add(path: Path, kind: str, carrier: str | None) -> None:
        if path.is_dir():
            problems.append(Problem(path, f"{path}: a directory where a {kind} file was expected"))
            return
        if not _is_candidate_file(path):
            return
        try:
            found.append(Delivery(path, kind, carrier, sha256_of(path), path.stat().st_size))
        except OSError as exc:
            problems.append(Problem(path, f"{path}: cannot read ({exc.strerror})"))

    for kind in FLAT_KINDS:
        if kinds is not None and kind not in kinds:
            continue
        folder = inbox / kind
        for p in sorted(folder.iterdir()) if folder.is_dir() else []:
            add(p, kind, None)
    for kind in PER_CARRIER_KINDS:
        if kinds is not None and kind not in kinds:
            continue
        folder = inbox / kind
        for sub in sorted(folder.iterdir()) if folder.is_dir() else []:
            if not sub.is_dir():
                if _is_candidate_file(sub):
                    problems.append(Problem(sub, f"{sub}: {kind} files belong in {kind}/<carrier>/"))
                continue
            if sub.name not in carriers:
                problems.append(Problem(sub, f"{sub}: unknown carrier folder {sub.name!r}; expected one of {carriers}"))
                continue
            for p in sorted(sub.iterdir()):
                add(p, kind, sub.name)
    return found, problems


def allowlist_hashes(path: Path | None) -> frozenset[str]:
    """The allowlist changes which hits become candidates, so its bytes are an input of the run."""
    return frozenset({sha256_of(path)}) if path is not None and path.is_file() else frozenset()


def known_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(query_model(con, "ledger/known_hashes")["sha256"].to_list())


@dataclass(frozen=True)
class IngestPlan:
    """What this run will land; ``input_hashes`` covers everything landed so far plus the new files."""

    new: list[Delivery]
    known: int
    problems: list[Problem]
    input_hashes: frozenset[str]


def plan_ingest(
    con: duckdb.DuckDBPyConnection, inbox: Path, carriers: list[str], kinds: frozenset[str] | None = None
) -> IngestPlan:
    """Split the inbox into new and known files; ``kinds`` limits a fast-lane flow to some folders."""
    deliveries, problems = discover_deliveries(inbox, carriers, kinds)
    known = known_hashes(con)
    new = [d for d in deliveries if d.sha256 not in known]
    return IngestPlan(new, len(deliveries) - len(new), problems, frozenset(known | {d.sha256 for d in deliveries}))


def record_ledger(con: duckdb.DuckDBPyConnection, d: Delivery, landed: Landed, run_id: str) -> None:
    run_model(
        con,
        "ledger/record_file",
        {
            "sha256": d.sha256,
            "source_file": str(d.path),
            "source_kind": d.kind,
            "carrier": d.carrier,
            "bytes": d.bytes,
            "rows_read": landed.rows_read,
            "rows_accepted": landed.rows_accepted,
            "rows_rejected": landed.rows_rejected,
            "rows_duplicate": landed.rows_duplicate,
            "status": landed.status,
            "error": landed.error,
            "run_id": run_id,
            "ingested_at": datetime.now(UTC),
        },
    )


def insert_rejects(con: duckdb.DuckDBPyConnection, d: Delivery, rejects: pl.DataFrame, run_id: str) -> None:
    if rejects.height == 0:
        return
    con.register("incoming_rejects", rejects)
    try:
        run_model(con, "ledger/insert_rejects", {"sha256": d.sha256, "run_id": run_id})
    finally:
        con.unregister("incoming_rejects")


def insert_frame(con: duckdb.DuckDBPyConnection, model: str, views: dict[str, pl.DataFrame], d: Delivery, run_id: str) -> None:
    """Register frames under the names a staging model reads, run it, and unregister them."""
    for name, frame in views.items():
        con.register(name, frame)
    try:
        run_model(con, model, {"sha256": d.sha256, "run_id": run_id})
    finally:
        for name in views:
            con.unregister(name)


Lander = Callable[[duckdb.DuckDBPyConnection, Delivery, IngestContext], Landed]


def land_delivery(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext, landers: dict[str, Lander]) -> Landed:
    """Land one file atomically; a file that cannot be read is recorded as failed and the run goes on."""
    lander = landers.get(d.kind)
    if lander is None:
        return Landed(status="skipped", error=f"no loader for {d.kind} files yet")
    try:
        with transaction(con):
            landed = lander(con, d, ctx)
            record_ledger(con, d, landed, ctx.run_id)
        return landed
    except InputError as exc:
        failed = Landed(status="failed", error=str(exc))
    with transaction(con):
        record_ledger(con, d, failed, ctx.run_id)
    log.warning("file failed: %s", failed.error)
    return failed


def ledger_mismatches(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Files whose counts do not add up; a non-empty result must fail the run."""
    return query_model(con, "ledger/check_identity")

