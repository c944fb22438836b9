"""Named kill points for the crash-recovery harness (tests/flows/test_crash_recovery.py).

A kill point is a place where a real crash (power loss, OOM killer, ``kill -9``) would leave the most
damage: inside a Parquet write before its rename, inside a DuckDB transaction, between two carriers'
exports. In production the environment variable is unset and :func:`kill_point` is a dictionary
lookup. The harness sets ``SUBFLAG_KILL_AT=<name>`` (or ``<name>@<n>`` for the n-th time the point is
reached, 1-based) and the process SIGKILLs itself there, so no ``finally`` block, atexit hook or
Prefect state hook gets to tidy up.
"""

from __future__ import annotations

import os
import signal

ENV = "SUBFLAG_KILL_AT"
_hits: dict[str, int] = {}


def kill_point(name: str) -> None:
    """SIGKILL this process if the harness asked to die at ``name`` (on its n-th arrival)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    point, _, nth = wanted.partition("@")
    if point != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
