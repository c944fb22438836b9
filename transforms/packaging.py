"""One information-request package: what a carrier sends an authority in answer to one written request.

A package must contain everything the request asked for and nothing it did not (Decree 49/2017 data is
personal), and it must prove on arrival that nobody changed it: ``manifest.json`` pins every member's
SHA-256 and row count and ``manifest.sig`` signs the manifest's exact bytes. The zip is a pure function of
its inputs and the key — members sorted, timestamps from the run date, fixed compression — so a package
can be rebuilt later and compared byte for byte. This module works on frames handed to it; selecting the
rows (numbers, period, current carrier) is the caller's SQL.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from transforms.config import Carrier
from transforms.cover_letter import (
    DEFAULT_LEGAL_BASIS,
    ZIP_LEVEL,
    AttachedFile,
    LetterFacts,
    compose_letter,
    fixed_zipinfo,
    render_docx,
    render_text,
)
from transforms.faults import kill_point
from transforms.lineage import code_version
from transforms.requests import AuthorityRequest, slugify_request_id
from transforms.signing import public_fingerprint_of_private, sign
from transforms.writers import atomic_path, csv_bytes, ensure_private_dir

PACKAGE_FORMAT = "subflag-package/1"
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
COVER_DOCX = "cover_letter.docx"
COVER_TXT = "cover_letter.txt"
PACKAGES_DIRNAME = "packages"

# request field → the one file that answers it
FIELD_FILES: dict[str, str] = {
    "subscriber": "subscribers.csv",
    "complaints": "complaints.csv",
    "cdr_summary": "cdr_summary.csv",
    "cdr_records": "cdr_records.csv",
}
# Decree 49 identity data: allowed only in subscribers.csv, i.e. only when the request asked for "subscriber".
PERSONAL_COLUMNS = frozenset(
    {"full_name", "date_of_birth", "id_type", "id_number", "id_issued_on", "id_issued_place", "photo_ref"}
)
MAX_SLUG_LENGTH = 200


class PackagePathError(ValueError):
    """A request id or carrier slug would put a package outside its carrier's packages folder."""


class PackageContentError(ValueError):
    """The frames handed in do not fit the request (missing requested data, personal data in the wrong file)."""


@dataclass(frozen=True)
class PackageFrames:
    subscribers: pl.DataFrame | None = None
    complaints: pl.DataFrame | None = None
    cdr_summary: pl.DataFrame | None = None
    cdr_records: pl.DataFrame | None = None

    def for_field(self, field: str) -> pl.DataFrame | None:
        return {
            "subscriber": self.subscribers,
            "complaints": self.complaints,
            "cdr_summary": self.cdr_summary,
            "cdr_records": self.cdr_records,
        }[field]


def generation_time(run_date: date, timezone: str = "Asia/Ho_Chi_Minh") -> datetime:
    """The end of the run date, local: a package answers with data complete through that day, and taking the
    time from the run date (not the clock) is what lets a rebuild produce the same bytes."""
    return datetime.combine(run_date, time(23, 59, 58), tzinfo=ZoneInfo(timezone))


def _contained(folder: Path, name: str, what: str) -> Path:
    """``folder/name`` after resolving symlinks and ``..``, or an error if that lands anywhere else."""
    if not name or name in {".", ".."} or any(ch in name for ch in "/\\\0") or name.startswith("."):
        raise PackagePathError(f"{what} {name!r} is not a plain file or folder name")
    base = folder.resolve()
    target = (base / name).resolve()
    if target.parent != base:
        raise PackagePathError(f"{what} {name!r} resolves to {target}, outside {base}")
    return target


def request_slug(request_id: str) -> str:
    """The requests module's sanitiser, then a containment-grade check of its result (defence in depth)."""
    slug = slugify_request_id(request_id)
    if len(slug) > MAX_SLUG_LENGTH:
        raise PackagePathError(f"request id {request_id!r} gives a {len(slug)}-character file name")
    return slug


def packages_folder(out_dir: Path, run_date: date, carrier_slug: str, *, dir_mode: int = 0o700) -> Path:
    """``<out>/<run_date>/<carrier>/packages``, each level private to the running user."""
    folder = ensure_private_dir(out_dir, dir_mode)
    folder = ensure_private_dir(_contained(folder, run_date.isoformat(), "run date"), dir_mode)
    folder = ensure_private_dir(_contained(folder, carrier_slug, "carrier slug"), dir_mode)
    return ensure_private_dir(_contained(folder, PACKAGES_DIRNAME, "folder"), dir_mode)


def package_path(packages_dir: Path, slug: str) -> Path:
    return _contained(packages_dir, f"{slug}.zip", "package name")


def refuse_slug_collision(target: Path, request_id: str) -> None:
    """Two ids can share a slug ("432/A", "432-A"); rebuilding the same request replaces its zip, another
    request's zip is never overwritten."""
    if not target.exists():
        return
    try:
        with zipfile.ZipFile(target) as zf:
            existing = json.loads(zf.read(MANIFEST_NAME))["request"]["request_id"]
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError, OSError) as exc:
        raise PackagePathError(f"{target} exists and is not a readable package ({exc}); refusing to replace it") from exc
    if existing != request_id:
        raise PackagePathError(
            f"{target} already holds the package for request {existing!r}; request {request_id!r} has the same "
            "file name — rename one of the requests"
        )


def request_echo(request: AuthorityRequest) -> dict[str, Any]:
    """The request exactly as the authority's JSON names its keys (``period.from``), for the manifest."""
    return request.model_dump(mode="json", by_alias=True)


def _period(echo: Mapping[str, Any]) -> tuple[date | None, date | None]:
    period = echo.get("period") or {}
    start, end = period.get("from"), period.get("to")
    return (date.fromisoformat(start[:10]) if start else None, date.fromisoformat(end[:10]) if end else None)


def requested_fields(request: AuthorityRequest) -> list[str]:
    fields = sorted({str(f) for f in request.fields})
    unknown = [f for f in fields if f not in FIELD_FILES]
    if unknown:
        raise PackageContentError(f"request {request.request_id}: unknown fields {unknown}; expected {sorted(FIELD_FILES)}")
    return fields


def select_frames(request: AuthorityRequest, frames: PackageFrames) -> dict[str, pl.DataFrame]:
    """File name → frame, for the requested fields only; frames the request did not ask for are dropped."""
    chosen: dict[str, pl.DataFrame] = {}
    for field in requested_fields(request):
        frame = frames.for_field(field)
        name = FIELD_FILES[field]
        if frame is None:
            raise PackageContentError(
                f"request {request.request_id} asks for {field!r} but no frame for {name} was given "
                "(pass an empty frame with the file's columns when nothing matched)"
            )
        stray = sorted(PERSONAL_COLUMNS & set(frame.columns)) if name != "subscribers.csv" else []
        if stray:
            raise PackageContentError(f"{name} would carry subscriber identity columns {stray}; they belong only in subscribers.csv")
        chosen[name] = frame
    return chosen


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode_manifest(manifest: Mapping[str, Any]) -> bytes:
    """Sorted keys, fixed indentation, UTF-8 (Vietnamese stays readable): the bytes the signature covers."""
    return (json.dumps(manifest, sort_keys=True, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _csv_bytes(chosen: Mapping[str, pl.DataFrame]) -> dict[str, bytes]:
    """Through the shared CSV encoder (BOM, formula neutralising), in memory: a staging folder on disk
    would be left in the output tree by a crash, and no reader ever needs the loose files."""
    return {name: csv_bytes(frame) for name, frame in chosen.items()}


def _file_entry(name: str, data: bytes, rows: int | None) -> dict[str, Any]:
    return {"name": name, "sha256": sha256_hex(data), "bytes": len(data), "rows": rows}


def write_zip(target: Path, members: Mapping[str, bytes], when: datetime, file_mode: int) -> Path:
    """Sorted members, one fixed timestamp, fixed compression; written under a temp name, then renamed."""
    with atomic_path(target, file_mode) as tmp:
        with zipfile.ZipFile(tmp, "w") as zf:
            for name in sorted(members):
                zf.writestr(fixed_zipinfo(name, when), members[name], compresslevel=ZIP_LEVEL)
                kill_point("packaging.zip")  # a half-written zip under its temp name
    return target


def _letter_facts(
    request: AuthorityRequest,
    carrier: Carrier,
    rows: Mapping[str, int],
    *,
    when: datetime,
    key_fp: str,
    numbers_not_found: Sequence[str],
    numbers_elsewhere: Mapping[str, str],
    other_carriers: Sequence[Carrier],
    place: str | None,
) -> LetterFacts:
    names = {c.slug: c.short_name for c in other_carriers}
    period_from, period_to = _period(request_echo(request))
    return LetterFacts(
        request_id=request.request_id,
        authority=request.authority,
        received_at=request.received_at,
        legal_basis=request.legal_basis or DEFAULT_LEGAL_BASIS,
        requested_action=str(request.requested_action),
        numbers=list(request.numbers),
        period_from=period_from,
        period_to=period_to,
        carrier_name=carrier.name,
        carrier_short_name=carrier.short_name,
        files=[AttachedFile(n, rows[n]) for n in sorted(rows)] + [AttachedFile(MANIFEST_NAME), AttachedFile(SIGNATURE_NAME)],
        numbers_not_found=sorted(numbers_not_found),
        numbers_elsewhere={n: names.get(c, c) for n, c in numbers_elsewhere.items()},
        generated_at=when,
        key_fingerprint=key_fp,
        place=place,
    )


def compose_manifest(
    request: AuthorityRequest,
    carrier: Carrier,
    members: Mapping[str, bytes],
    rows: Mapping[str, int],
    *,
    when: datetime,
    run_id: str,
    run_date: date,
    profile: str,
    tool_version: str,
    key_fp: str,
    numbers_not_found: Sequence[str],
    numbers_elsewhere: Mapping[str, str],
) -> dict[str, Any]:
    due_at = request.due_at
    return {
        "format": PACKAGE_FORMAT,
        "request": request_echo(request),
        "carrier": {"slug": carrier.slug, "name": carrier.name, "short_name": carrier.short_name},
        "generated_at": when.isoformat(),
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "tool_version": tool_version,
        "profile": profile,
        "files": [_file_entry(n, members[n], rows.get(n)) for n in sorted(members)],
        "numbers_not_found": sorted(numbers_not_found),
        "numbers_elsewhere": dict(sorted(numbers_elsewhere.items())),
        "deadline": {
            "due_at": due_at.isoformat() if due_at else None,
            "generated_at": when.isoformat(),
            "overdue": (when > due_at) if due_at else None,
        },
        "signature": {"algorithm": "Ed25519", "file": SIGNATURE_NAME, "public_key_sha256": key_fp},
    }


def build_package(
    request: AuthorityRequest,
    carrier: Carrier,
    frames: PackageFrames,
    *,
    run_id: str,
    run_date: date,
    profile: str,
    out_dir: Path,
    private_key: Path,
    numbers_not_found: list[str],
    numbers_elsewhere: dict[str, str],
    other_carriers: Sequence[Carrier] = (),
    timezone: str = "Asia/Ho_Chi_Minh",
    generated_at: datetime | None = None,
    tool_version: str | None = None,
    place: str | None = None,
    dir_mode: int = 0o700,
    file_mode: int = 0o600,
) -> Path:
    """Write ``<out>/<run_date>/<carrier>/packages/<slug>.zip`` atomically and return its path.

    ``numbers_elsewhere`` maps a requested number to the slug of the carrier that holds it now;
    ``other_carriers`` (usually ``settings.carriers``) lets the cover letter name that carrier properly.
    """
    key_fp = public_fingerprint_of_private(private_key)
    folder = packages_folder(out_dir, run_date, carrier.slug, dir_mode=dir_mode)
    target = package_path(folder, request_slug(request.request_id))
    refuse_slug_collision(target, request.request_id)
    when = generated_at or generation_time(run_date, timezone)
    chosen = select_frames(request, frames)
    rows = {name: frame.height for name, frame in chosen.items()}
    members = _csv_bytes(chosen)
    letter = compose_letter(
        _letter_facts(
            request, carrier, rows, when=when, key_fp=key_fp, numbers_not_found=numbers_not_found,
            numbers_elsewhere=numbers_elsewhere, other_carriers=other_carriers, place=place,
        )
    )
    members[COVER_TXT] = render_text(letter).encode("utf-8")
    members[COVER_DOCX] = render_docx(letter, when=when)
    manifest = compose_manifest(
        request, carrier, members, rows, when=when, run_id=run_id, run_date=run_date, profile=profile,
        tool_version=tool_version or code_version(), key_fp=key_fp, numbers_not_found=numbers_not_found,
        numbers_elsewhere=numbers_elsewhere,
    )
    members[MANIFEST_NAME] = encode_manifest(manifest)
    members[SIGNATURE_NAME] = sign(members[MANIFEST_NAME], private_key)
    kill_point("packaging.signed")
    return write_zip(target, members, when, file_mode)
