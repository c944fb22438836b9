"""Run identity and lineage: the same inputs and config give the same run id, hence identical outputs."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import date
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from transforms.config import PROJECT_ROOT


def derive_run_id(run_date: date, input_hashes: list[str] | set[str], config_digest: str) -> str:
    """Content-addressed, not time-addressed: it is what makes re-runs byte-identical."""
    h = hashlib.sha256()
    h.update(run_date.isoformat().encode())
    for sha in sorted(set(input_hashes)):
        h.update(b"\0" + sha.encode())
    h.update(b"\0config\0" + config_digest.encode())
    return f"{run_date:%Y%m%d}-{h.hexdigest()[:12]}"


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus the git commit when the code runs from a checkout."""
    try:
        v = version("subflag")
    except PackageNotFoundError:
        v = "0+unknown"
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "--short=12", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{v}+g{commit}" if commit else v
