"""report.html of a simulated run, rendered by headless Chromium offline: every chart is there, a <script>
planted in a complaint is shown as text, and the terminal summary of `subflag run` carries the same figures."""

from __future__ import annotations

import csv
import json
import shutil
import struct
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from transforms.config import load_config
from transforms.report import CHARTS
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
PLANTED = "<script>alert('subflag-xss')</script> Công an mạo danh"
OVERDUE_REQUEST = "999/TEST-XSS"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="headless Chromium is not installed (Debian: apt-get install --no-install-recommends chromium; "
           ".ci/run installs it), so report.html cannot be rendered here",
)


@dataclass(frozen=True)
class World:
    report: Path
    summary: object


def plant_inputs(inbox: Path) -> None:
    """A complaint about the police duty line whose text is a script, and a request already past due."""
    with (inbox / "complaints" / "planted_20240305.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["complaint_id", "received_at", "channel", "reported_number", "category", "reporter",
                         "description", "occurred_at"])
        writer.writerow(["KNXSS0001", "2024-03-05 23:50:00", "hotline", "0692348560", "impersonation", "0912000001",
                         PLANTED, "2024-03-05 23:40"])
    request = {"request_id": OVERDUE_REQUEST, "authority": "Công an tỉnh <b>Ninh Thuận</b>",
               "received_at": "2024-03-04T09:00:00+07:00", "due_at": "2024-03-05T12:00:00+07:00",
               "legal_basis": "Nghị định 49/2017/NĐ-CP", "requested_action": "information",
               "numbers": ["0912000001"], "fields": ["subscriber"], "period": {"from": "2024-03-01", "to": "2024-03-05"}}
    (inbox / "requests" / "999-TEST-XSS.json").write_text(json.dumps(request, ensure_ascii=False), encoding="utf-8")


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness) -> World:
    from flows.daily import daily_run

    root = tmp_path_factory.mktemp("report")
    simulate_inbox(SimulationSpec(subscribers=1000, days=3, end_date=RUN_DATE, seed=5), load_config(),
                   root / "inbox", root / "truth")
    plant_inputs(root / "inbox")
    summary = daily_run(run_date=RUN_DATE, inbox=root / "inbox", warehouse=root / "warehouse.duckdb",
                        lake=root / "lake", out=root / "out")
    return World(root / "out" / RUN_DATE.isoformat() / "report.html", summary)


def chromium(report: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless, no sandbox (containers), nothing that talks to the network; any request would hit a dead proxy."""
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--proxy-server=http://127.0.0.1:9", f"--user-data-dir={profile}", *args, report.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


@needs_chromium
def test_report_renders_offline_with_every_chart_and_inert_complaint_text(world, tmp_path):
    result = chromium(world.report, tmp_path / "profile-dom", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    dom = result.stdout
    assert "subflag — run report for 2024-03-05" in dom
    for chart_id in CHARTS:
        assert f'<svg id="{chart_id}"' in dom, f"chart {chart_id} missing from the rendered DOM"
    assert "<script" not in dom, "a script element exists in the rendered page"
    assert "&lt;script&gt;alert('subflag-xss')&lt;/script&gt; Công an mạo danh" in dom
    assert "Công an tỉnh &lt;b&gt;Ninh Thuận&lt;/b&gt;" in dom and "<b>Ninh" not in dom
    assert OVERDUE_REQUEST in dom


@needs_chromium
def test_report_screenshot(world, tmp_path):
    shot = tmp_path / "report.png"
    result = chromium(world.report, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,2400",
                      "--hide-scrollbars")
    assert result.returncode == 0, result.stderr[-2000:]
    assert png_size(shot) == (1200, 2400)
    assert shot.stat().st_size > 50_000, "the screenshot is nearly empty"


def test_report_is_self_contained(world):
    html = world.report.read_text(encoding="utf-8")
    assert "<script" not in html and "<link" not in html and "@import" not in html and " src=" not in html
    assert "default-src 'none'" in html


def test_cli_summary_has_the_reports_figures_without_complaint_text(world):
    from flows.cli import console, print_summary

    with console.capture() as captured:
        print_summary(world.summary)
    text = captured.get()
    assert f"run {world.summary.run_id} for 2024-03-05" in text
    for heading in ("candidates", "rule hits", "rejected rows", "overdue requests", "spoofing alerts"):
        assert heading in text, heading
    assert OVERDUE_REQUEST in text and "0692348560" in text
    assert "subflag-xss" not in text and "mạo danh" not in text
