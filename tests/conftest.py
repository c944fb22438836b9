"""Session-wide test environment: no telemetry, Prefect state in a temp home, quiet logs."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

_PREFECT_HOME = Path(tempfile.mkdtemp(prefix="subflag-prefect-"))
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_HOME"] = str(_PREFECT_HOME)
os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] = str(_PREFECT_HOME / "results")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")
os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture(scope="session")
def settings():
    from transforms.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session (it costs ~12 s to start)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_terminal_summary(terminalreporter) -> None:
    """How many examples each fuzz target ran (tests/fuzzing.py), so a `make fuzz` log states the counts."""
    from tests.fuzzing import REPORTS

    if REPORTS:
        terminalreporter.section("fuzz targets")
        for report in REPORTS:
            terminalreporter.line(report.line())
