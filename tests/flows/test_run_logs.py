"""Logs of a daily run on a simulated world: no complaint text and no registry PII anywhere in them, at any
level (they leave the warehouse's access controls: Prefect's database, terminals, CI output), and one
structured line per stage."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from transforms.config import load_config
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
PLANTED_COMPLAINT = "SUBFLAG-PLANTED-COMPLAINT mạo danh công an yêu cầu chuyển tiền"
PLANTED_REJECT = "SUBFLAG-PLANTED-REJECT gửi mã OTP"
PLANTED_HEADERLESS = "SUBFLAG-PLANTED-HEADERLESS chuyển khoản ngay"
# The daily flow's stages, each of which should log exactly one `stage=<name> seconds=… counts…` line.
STAGES = ("ingest", "load", "features", "subscriber_checks", "flag", "export", "report")


def plant(inbox: Path) -> None:
    with (inbox / "complaints" / "planted_20240305.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["complaint_id", "received_at", "channel", "reported_number", "category", "reporter", "description"])
        w.writerow(["KNLOG0001", "2024-03-05 10:00:00", "web", "0912000002", "fraud", "0912000003", PLANTED_COMPLAINT])
    with (inbox / "reports_5656" / "planted_20240305.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["received_at", "reporter", "message"])
        w.writerow(["2024-03-05 10:05:00", "84912000004", f"XYZ {PLANTED_REJECT}"])       # rejected: not V/S/DK
    # A file that lost its header: its first data row is what a reader would take for column names.
    (inbox / "complaints" / "noheader_20240305.csv").write_text(
        f"KNLOG0002,2024-03-05 11:00:00,web,0912000005,fraud,0912000006,{PLANTED_HEADERLESS}\n", encoding="utf-8")


def registry_pii(inbox: Path) -> set[str]:
    frames = [pl.read_csv(p, infer_schema=False) for p in sorted((inbox / "subscribers").rglob("*.csv"))]
    people = pl.concat([f.select("full_name", "id_number") for f in frames])
    names = {n for n in people["full_name"].drop_nulls().to_list() if len(n.split()) >= 2}
    ids = {i for i in people["id_number"].drop_nulls().to_list() if len(i) >= 8}
    return names | ids


@pytest.fixture(scope="module")
def run_logs(tmp_path_factory, prefect_harness) -> tuple[str, Path]:
    """Everything any logger emitted during one daily run, DEBUG included."""
    from flows.daily import daily_run

    root = tmp_path_factory.mktemp("logs")
    simulate_inbox(SimulationSpec(subscribers=1000, days=3, end_date=RUN_DATE, seed=5), load_config(),
                   root / "inbox", root / "truth")
    plant(root / "inbox")
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    watched = [logging.getLogger(n) for n in ("prefect", "subflag")]
    levels = [lg.level for lg in watched]
    logging.getLogger().addHandler(handler)
    for lg in watched:
        lg.setLevel(logging.DEBUG)
    try:
        daily_run(run_date=RUN_DATE, inbox=root / "inbox", warehouse=root / "warehouse.duckdb", lake=root / "lake",
                  out=root / "out")
    finally:
        logging.getLogger().removeHandler(handler)
        for lg, level in zip(watched, levels):
            lg.setLevel(level)
    return buffer.getvalue(), root / "inbox"


def test_logs_were_captured(run_logs):
    text, _ = run_logs
    assert "Beginning flow run" in text and "subflag.ingest WARNING file failed" in text


def test_no_complaint_text_or_registry_pii_in_logs(run_logs):
    text, inbox = run_logs
    for secret in (PLANTED_COMPLAINT, "SUBFLAG-PLANTED-COMPLAINT", PLANTED_REJECT, "SUBFLAG-PLANTED-REJECT"):
        assert secret not in text, f"complaint text in the logs: {secret!r}"
    pii = registry_pii(inbox)
    assert len(pii) > 1000
    leaked = sorted(p for p in pii if p in text)
    assert not leaked, f"registry names / ID numbers in the logs: {leaked[:5]}"


def test_a_headerless_file_does_not_leak_its_first_row(run_logs):
    text, _ = run_logs
    assert "SUBFLAG-PLANTED-HEADERLESS" not in text
    assert "0912000006" not in text and "912000006" not in text


def test_one_structured_line_per_stage(run_logs):
    text, _ = run_logs
    lines = [line.split(" INFO ", 1)[1] for line in text.splitlines() if " INFO stage=" in line]
    for stage in STAGES:
        mine = [line for line in lines if line.startswith(f"stage={stage} ")]
        assert len(mine) == 1, (stage, mine)
        assert re.fullmatch(rf"stage={stage} seconds=\d+\.\d{{3}}( [A-Za-z][\w.-]*=[\w.-]+)*", mine[0]), mine[0]
