"""Check a package as its recipient would: signature, every member's hash and row count, nothing extra.

Every problem is reported, not just the first, and each message names the member and what changed,
because the person reading it is deciding whether to trust evidence, not debugging a program.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import polars as pl

from transforms.packaging import FIELD_FILES, MANIFEST_NAME, PACKAGE_FORMAT, SIGNATURE_NAME, sha256_hex
from transforms.signing import public_fingerprint, verify_signature

_BOM = b"\xef\xbb\xbf"


class PackageInvalid(ValueError):
    """Raised by :meth:`VerifyReport.raise_for_problems`; the message lists every problem found."""


@dataclass
class VerifyReport:
    zip_path: Path
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None
    signature_ok: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        if self.ok:
            return f"{self.zip_path}: OK — signature valid, {len(self.checked)} members match the manifest"
        return f"{self.zip_path}: FAILED\n" + "\n".join(f"  - {p}" for p in self.problems)

    def raise_for_problems(self) -> None:
        if not self.ok:
            raise PackageInvalid(self.summary())


def count_csv_rows(data: bytes) -> int:
    """Data rows as a CSV reader sees them (quoted line breaks in complaint text do not start a row)."""
    body = data.removeprefix(_BOM)
    if not body.strip():
        return 0
    return pl.read_csv(io.BytesIO(body), infer_schema=False).height


def _safe_member_name(name: str) -> bool:
    p = PurePosixPath(name)
    return not (p.is_absolute() or "\\" in name or ".." in p.parts or len(p.parts) != 1)


def _read_members(zf: zipfile.ZipFile, report: VerifyReport) -> tuple[dict[str, bytes], set[str]]:
    contents: dict[str, bytes] = {}
    unreadable: set[str] = set()
    counts = Counter(i.filename for i in zf.infolist())
    for name, n in sorted(counts.items()):
        if n > 1:
            report.problems.append(f"member {name!r} appears {n} times: a second copy was added to the zip")
        if not _safe_member_name(name):
            report.problems.append(f"member {name!r} is not a plain file name (path components or traversal)")
    for info in zf.infolist():
        try:
            contents.setdefault(info.filename, zf.read(info))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            unreadable.add(info.filename)
            report.problems.append(f"{info.filename}: its bytes were changed after packaging (cannot be read: {exc})")
    return contents, unreadable


def _check_signature(manifest_bytes: bytes, members: dict[str, bytes], public_key: Path, report: VerifyReport) -> None:
    sig = members.get(SIGNATURE_NAME)
    if sig is None:
        report.problems.append(f"{SIGNATURE_NAME} is missing: the manifest is unsigned")
        return
    if len(sig) != 64:
        report.problems.append(f"{SIGNATURE_NAME} is {len(sig)} bytes, an Ed25519 signature is 64: it was changed")
        return
    if verify_signature(manifest_bytes, sig, public_key):
        report.signature_ok = True
        return
    claimed = _signer(manifest_bytes)
    ours = public_fingerprint(public_key)
    if claimed and claimed != ours:
        report.problems.append(
            f"{SIGNATURE_NAME}: the manifest names signing key {claimed[:16]}…, but the public key given "
            f"({public_key}) is {ours[:16]}…: wrong public key, or the manifest was swapped"
        )
    else:
        report.problems.append(
            f"{SIGNATURE_NAME} does not match {MANIFEST_NAME}: the manifest was edited or swapped after signing, "
            "or the signature was changed"
        )


def _signer(manifest_bytes: bytes) -> str | None:
    try:
        value = json.loads(manifest_bytes)["signature"]["public_key_sha256"]
    except (ValueError, KeyError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _check_files(
    manifest: dict[str, Any], members: dict[str, bytes], unreadable: set[str], report: VerifyReport
) -> None:
    entries = manifest.get("files")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("name"), str) for e in entries):
        report.problems.append(f"{MANIFEST_NAME}: 'files' is not a list of {{name, sha256, rows}} entries")
        return
    listed = {e["name"] for e in entries}
    for entry in entries:
        name = entry["name"]
        if name in unreadable:
            continue
        if name not in members:
            report.problems.append(f"{name} is listed in the manifest but missing from the zip: it was removed")
            continue
        data = members[name]
        good = True
        actual = sha256_hex(data)
        if actual != entry.get("sha256"):
            good = False
            report.problems.append(
                f"{name}: SHA-256 {actual[:16]}… differs from the manifest's {str(entry.get('sha256'))[:16]}…: "
                "the file was changed after signing"
            )
        if entry.get("rows") is not None:
            try:
                rows = count_csv_rows(data)
            except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
                report.problems.append(f"{name}: not a readable CSV any more ({exc})")
                continue
            if rows != entry["rows"]:
                good = False
                report.problems.append(f"{name}: the manifest says {entry['rows']} rows, the file has {rows}")
        if good:
            report.checked.append(name)
    for name in sorted((set(members) | unreadable) - listed - {MANIFEST_NAME, SIGNATURE_NAME}):
        report.problems.append(f"unexpected member {name!r}: not listed in the manifest, it was added after signing")
    _check_fields(manifest, listed, report)


def _check_fields(manifest: dict[str, Any], listed: set[str], report: VerifyReport) -> None:
    """Data files must match the request's fields: missing means incomplete, extra means over-disclosure."""
    request = manifest.get("request")
    fields = request.get("fields") if isinstance(request, dict) else None
    if not isinstance(fields, list):
        report.problems.append(f"{MANIFEST_NAME}: the request echo has no 'fields' list")
        return
    for fld, name in sorted(FIELD_FILES.items()):
        if name in listed and fld not in fields:
            report.problems.append(f"{name} is in the package but the request did not ask for {fld!r}")
        if fld in fields and name not in listed:
            report.problems.append(f"the request asked for {fld!r} but the package has no {name}")


def verify_package(zip_path: Path, public_key: Path) -> VerifyReport:
    """Never raises for a bad package (the report lists why); raises only if the public key is unusable."""
    report = VerifyReport(zip_path=zip_path)
    public_fingerprint(public_key)
    try:
        zf = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        report.problems.append(f"{zip_path} is not a readable zip archive ({exc}): the file was damaged or replaced")
        return report
    with zf:
        members, unreadable = _read_members(zf, report)
    manifest_bytes = members.get(MANIFEST_NAME)
    if manifest_bytes is None:
        if MANIFEST_NAME not in unreadable:
            report.problems.append(f"{MANIFEST_NAME} is missing: nothing can be checked")
        return report
    if SIGNATURE_NAME not in unreadable:
        _check_signature(manifest_bytes, members, public_key, report)
    try:
        manifest = json.loads(manifest_bytes)
    except ValueError as exc:
        report.problems.append(f"{MANIFEST_NAME} is not valid JSON ({exc}): it was changed")
        return report
    if not isinstance(manifest, dict) or manifest.get("format") != PACKAGE_FORMAT:
        report.problems.append(f"{MANIFEST_NAME}: expected format {PACKAGE_FORMAT!r}")
        return report
    report.manifest = manifest
    _check_files(manifest, members, unreadable, report)
    return report
