"""Inbox → warehouse: find delivered files, land each new one exactly once, account for every row.

A file is identified by its SHA-256, so a re-delivered identical file is a no-op and a corrected file with
the same name is a new delivery. Each file lands in one DuckDB transaction together with its ledger row
and its rejects: a crash leaves either all of it or none of it.

What cannot be identified by content (a directory where a file should be, an unreadable or 0-byte file, a
carrier folder that is a file, an unknown carrier folder) is still recorded, as a failed ledger row keyed
by its place in the inbox (:func:`problem_key`): re-running keeps one row per broken place, and once a real
file is delivered there it lands under its own content hash like any other.
A file that fails lands nothing: ``rows_read = rows_accepted = rows_rejected = 0`` on its failed row.
"""

from __future__ import annotations

import hashlib
import logging
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import Settings
from transforms.faults import kill_point
from transforms.numbers import NumberingTables
from transforms.readers import InputError
from transforms.warehouse import query_model, run_model, transaction

log = logging.getLogger("subflag.ingest")

FLAT_KINDS = ("reports_5656", "complaints", "requests", "ported", "decisions")
PER_CARRIER_KINDS = ("cdr", "subscribers")
SUFFIXES = (".csv", ".csv.gz", ".jsonl", ".parquet", ".json")
PROBLEM_KEY_PREFIX = "inbox-problem:"
_DATED_BY_NAME = frozenset({"subscribers"})  # what a file means depends on its name, not only its bytes
_CHUNK = 1 << 20
_EXPECTED_CONTENT = {
    ".parquet": "a Parquet file",
    ".json": "one JSON object (the request)",
    ".jsonl": "one JSON object per line",
}


@dataclass(frozen=True)
class Delivery:
    """A file to land; with ``problem`` set, an inbox entry that can only be recorded as failed."""

    path: Path
    kind: str
    carrier: str | None
    sha256: str
    bytes: int
    problem: str | None = None


@dataclass(frozen=True)
class Problem:
    """A thing in the inbox that is not a landable file (unknown folder, a directory, unreadable, 0 bytes).

    ``key`` is its ledger key (:func:`problem_key`): it has no content to hash.
    """

    path: Path
    message: str
    kind: str = ""
    carrier: str | None = None
    key: str = ""
    bytes: int = 0

    def as_delivery(self) -> Delivery:
        return Delivery(self.path, self.kind, self.carrier, self.key, self.bytes, problem=self.message)


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


def shown(path: Path) -> str:
    """The path as text a message or the ledger can hold: bytes of a non-UTF-8 file name become U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def problem_key(inbox: Path, path: Path) -> str:
    """Ledger key of an inbox entry without content to hash: its place in the inbox, not its bytes.

    The same broken place gives the same key on every run (a rerun replaces its row, adds none); the
    prefix keeps it apart from content hashes, so a file later delivered there lands under its own hash.
    """
    where = path.relative_to(inbox).as_posix().encode("utf-8", "surrogateescape")
    return PROBLEM_KEY_PREFIX + hashlib.sha256(where).hexdigest()


def _is_candidate_file(p: Path) -> bool:
    name = p.name
    return not name.startswith(".") and not name.endswith((".tmp", ".part")) and name.endswith(SUFFIXES)


def _list_folder(folder: Path) -> list[Path]:
    return sorted(folder.iterdir())


def _expected_content(path: Path, kind: str) -> str:
    if kind == "requests":
        return _EXPECTED_CONTENT[".json"]
    suffix = next((s for s in _EXPECTED_CONTENT if path.name.lower().endswith(s)), "")
    return _EXPECTED_CONTENT.get(suffix, "a header line naming the columns")


def discover_deliveries(
    inbox: Path, carriers: list[str], kinds: frozenset[str] | None = None
) -> tuple[list[Delivery], list[Problem]]:
    """List every landable file in the inbox, in a stable order (kind, carrier, name); hash only ``kinds``.

    Hidden entries and ``.tmp``/``.part`` names (uploads in progress) are skipped, as are files with other
    suffixes; anything else that cannot be landed is a :class:`Problem` naming the place and what was
    expected there.
    """
    found: list[Delivery] = []
    problems: list[Problem] = []

    def fail(path: Path, kind: str, carrier: str | None, message: str) -> None:
        problems.append(Problem(path, f"{shown(path)}: {message}", kind, carrier, problem_key(inbox, path)))

    def entries(folder: Path, kind: str, carrier: str | None, what: str) -> list[Path]:
        if not folder.is_dir():
            if folder.exists() or folder.is_symlink():
                fail(folder, kind, carrier, f"a file where {what} was expected")
            return []
        try:
            return [p for p in _list_folder(folder) if not p.name.startswith(".")]
        except OSError as exc:
            fail(folder, kind, carrier, f"cannot list {what} ({exc.strerror or exc}); expected a folder the run can read")
            return []

    def add(path: Path, kind: str, carrier: str | None) -> None:
        if path.is_dir():
            fail(path, kind, carrier, f"a directory where a {kind} file was expected")
            return
        if not _is_candidate_file(path):
            return
        if shown(path) != str(path):
            fail(path, kind, carrier, "the file name is not valid UTF-8; expected a UTF-8 file name, rename the file")
            return
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                fail(path, kind, carrier, f"not a regular file; expected a {kind} file")
            elif info.st_size == 0:
                fail(path, kind, carrier, f"file is empty (0 bytes); expected {_expected_content(path, kind)}")
            else:
                found.append(Delivery(path, kind, carrier, sha256_of(path), info.st_size))
        except OSError as exc:
            fail(path, kind, carrier, f"cannot read ({exc.strerror or exc}); expected a file the run can read")

    for kind in FLAT_KINDS:
        if kinds is not None and kind not in kinds:
            continue
        for p in entries(inbox / kind, kind, None, f"the {kind}/ folder"):
            add(p, kind, None)
    for kind in PER_CARRIER_KINDS:
        if kinds is not None and kind not in kinds:
            continue
        for sub in entries(inbox / kind, kind, None, f"the {kind}/ folder"):
            if sub.name in carriers:
                for p in entries(sub, kind, sub.name, f"the folder {kind}/{sub.name}/"):
                    add(p, kind, sub.name)
            elif sub.is_dir():
                fail(sub, kind, None, f"unknown carrier folder {shown(Path(sub.name))!r}; expected one of {carriers}")
            elif _is_candidate_file(sub):
                fail(sub, kind, None, f"{kind} files belong in {kind}/<carrier>/ (carrier one of {carriers})")
    return found, problems


def allowlist_hashes(path: Path | None) -> frozenset[str]:
    """The allowlist changes which hits become candidates, so its bytes are an input of the run."""
    return frozenset({sha256_of(path)}) if path is not None and path.is_file() else frozenset()


def known_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return set(query_model(con, "ledger/known_hashes")["sha256"].to_list())


@dataclass(frozen=True)
class IngestPlan:
    """What this run will land; ``input_hashes`` covers everything landed so far plus the new files.

    ``new`` ends with one :class:`Delivery` per problem (``problem`` set): landing ``new`` records each as a
    failed ledger row, so every flow that lands ``new`` records them and counts them in ``files_failed``.
    ``problems`` are the same entries, for the run's log. Problem keys are not content: not in ``input_hashes``.
    """

    new: list[Delivery]
    known: int
    problems: list[Problem]
    input_hashes: frozenset[str]


def plan_ingest(
    con: duckdb.DuckDBPyConnection, inbox: Path, carriers: list[str], kinds: frozenset[str] | None = None
) -> IngestPlan:
    """Split the inbox into new and known files; ``kinds`` limits a fast-lane flow to some folders.

    Identical bytes under two names in one inbox land once (the first in inbox order), as they would
    across two runs: landing them twice would record their rejects twice under one ledger key. Subscriber
    snapshots are the exception: their day is in the file name, so an unchanged registry delivered for two
    days is two snapshots, landed in name order (they share one ledger row: its key is the content).
    """
    deliveries, problems = discover_deliveries(inbox, carriers, kinds)
    known = known_hashes(con)
    seen: set[str] = set()
    new: list[Delivery] = []
    for d in deliveries:
        if d.sha256 in known or (d.sha256 in seen and d.kind not in _DATED_BY_NAME):
            continue
        seen.add(d.sha256)
        new.append(d)
    return IngestPlan(
        [*new, *(p.as_delivery() for p in problems)], len(deliveries) - len(new), problems, frozenset(known | seen)
    )


def record_ledger(con: duckdb.DuckDBPyConnection, d: Delivery, landed: Landed, run_id: str) -> None:
    run_model(
        con,
        "ledger/record_file",
        {
            "sha256": d.sha256,
            "source_file": shown(d.path),
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
    """Land one file atomically; a file that cannot be read is recorded as failed and the run goes on.

    A failed file lands nothing (its transaction is rolled back, a CDR's lake files are never published):
    its ledger row says 0 rows read, and the error names the file, the line or column, and what was expected.
    An inbox problem (``d.problem``) is only recorded; the flow has logged it already.
    """
    if d.problem is not None:
        failed = Landed(status="failed", error=d.problem)
        with transaction(con):
            record_ledger(con, d, failed, ctx.run_id)
        return failed
    lander = landers.get(d.kind)
    if lander is None:
        return Landed(status="skipped", error=f"no loader for {d.kind} files yet")
    try:
        with transaction(con):
            landed = lander(con, d, ctx)
            record_ledger(con, d, landed, ctx.run_id)
            kill_point("ingest.land")  # rows, rejects and ledger row written, not committed
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

