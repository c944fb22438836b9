"""Privacy and permissions through the real CLI (DESIGN.md §10): output folders private to the running user
(or, when configured, to a shared group), and no registry name, date of birth or ID number in anything a
run logs or prints — for a run whose requests ask for subscriber information, so that data is read.

tests/flows/test_daily.py scans every output byte and analyst view of the daily flow for personal data;
here the same scan covers what `subflag package` adds, and the logs and terminal output of both commands.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from flows.cli import app
from tests.flows.conftest import copy_config
from tests.flows.test_daily import _leaks, _texts_under
from transforms.config import load_config
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
SHARED = (0o750, 0o640)
runner = CliRunner()


@dataclass(frozen=True)
class World:
    root: Path
    inbox: Path
    out: Path          # default config: 0700 / 0600
    shared_out: Path   # [output] dir_mode = "0750", file_mode = "0640"
    logs: str          # every record any logger emitted, DEBUG included, during all four commands
    terminal: str      # everything the commands printed (stdout and stderr)
    subscriber_numbers: list[str]


def configure(dest: Path, root: Path, modes: tuple[int, int] | None = None) -> Path:
    """The project's config with keys and the DuckDB spill folder under ``root``; optionally other output modes."""
    config = copy_config(dest)
    run = config / "run.toml"
    text = run.read_text(encoding="utf-8")
    for key, value in {"signing_keys": root / "keys", "pseudonym_key": root / "keys" / "pseudonym.key",
                       "temp_directory": root / "spill"}.items():
        text, n = re.subn(rf"^{key} = .*$", f'{key} = "{value}"', text, flags=re.MULTILINE)
        assert n == 1, f"run.toml has no {key} line"
    if modes:
        text, n = re.subn(r'^dir_mode = .*\nfile_mode = .*$', f'dir_mode = "0{modes[0]:o}"\nfile_mode = "0{modes[1]:o}"',
                          text, flags=re.MULTILINE)
        assert n == 1, "run.toml has no [output] dir_mode / file_mode lines"
    run.write_text(text, encoding="utf-8")
    output = load_config(config).run.output
    assert modes is None or (int(output.dir_mode, 8), int(output.file_mode, 8)) == modes
    return config


def subscriber_request(folder: Path, numbers: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "PRIV-1.json"
    path.write_text(json.dumps({
        "request_id": "PRIV/1", "authority": "Công an TP. Cần Thơ", "received_at": "2024-03-05T08:00:00+07:00",
        "due_at": "2024-03-06T17:00:00+07:00", "legal_basis": "Nghị định 49/2017/NĐ-CP", "requested_action": "information",
        "numbers": numbers, "fields": ["subscriber", "complaints", "cdr_summary"],
        "period": {"from": "2024-03-04", "to": "2024-03-05"},
    }, ensure_ascii=False), encoding="utf-8")
    return path


def cli(*args: str | Path) -> str:
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_harness) -> World:
    root = tmp_path_factory.mktemp("privacy")
    default = configure(root / "config", root)
    shared = configure(root / "config-shared", root, SHARED)
    inbox = root / "inbox"
    simulate_inbox(SimulationSpec(subscribers=600, days=2, end_date=RUN_DATE, seed=3), load_config(default), inbox,
                   root / "truth")
    registry = pl.concat([pl.read_csv(p, infer_schema=False) for p in sorted((inbox / "subscribers").rglob("*.csv"))])
    numbers = registry.filter(pl.col("status") == "active")["msisdn"].unique().sort().head(3).to_list()
    request = subscriber_request(root / "requests", numbers)
    common = ["--date", RUN_DATE.isoformat(), "--warehouse", root / "warehouse.duckdb", "--lake", root / "lake"]

    import flows.daily  # noqa: F401 - importing the flow (re)configures Prefect's logging: do it before capturing

    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    top = logging.getLogger()
    watched = [logging.getLogger(n) for n in ("prefect", "subflag", "transforms")]
    levels = [lg.level for lg in watched]
    top.addHandler(handler)
    for lg in watched:
        lg.setLevel(logging.DEBUG)
    umask = os.umask(0o022)  # a usual umask: private modes must come from the code, not the environment
    try:
        terminal = [
            cli("run", "--inbox", inbox, "--out", root / "out", "--config", default, *common),
            cli("package", "--request", request, "--out", root / "out", "--config", default, *common),
            cli("run", "--inbox", inbox, "--out", root / "shared", "--config", shared, *common),
            cli("package", "--request", request, "--out", root / "shared", "--config", shared, *common),
        ]
    finally:
        os.umask(umask)
        top.removeHandler(handler)
        for lg, level in zip(watched, levels):
            lg.setLevel(level)
    return World(root, inbox, root / "out", root / "shared", buffer.getvalue(), "\n".join(terminal), numbers)


def modes(folder: Path) -> tuple[dict[str, int], dict[str, int]]:
    """(folder → mode, file → mode) for everything under ``folder``, the folder itself included."""
    dirs = {".": stat.S_IMODE(folder.stat().st_mode)}
    files = {}
    for p in folder.rglob("*"):
        (dirs if p.is_dir() else files)[str(p.relative_to(folder))] = stat.S_IMODE(p.lstat().st_mode)
    return dirs, files


def registry_pii(inbox: Path) -> tuple[set[str], set[str], set[str]]:
    people = pl.concat([pl.read_csv(p, infer_schema=False).select("full_name", "date_of_birth", "id_number")
                        for p in sorted((inbox / "subscribers").rglob("*.csv"))])
    pick = lambda c: {v for v in people[c].drop_nulls().to_list() if len(v) >= 6}  # noqa: E731
    return pick("full_name"), pick("date_of_birth"), pick("id_number")


def expected_layout(out: Path) -> None:
    """The folders each step creates are there, so the mode checks below look at them."""
    day = out / RUN_DATE.isoformat()
    assert (day / "report.html").is_file() and list(day.glob("*/suspension_candidates.xlsx"))
    assert len(list(day.glob("*/packages/PRIV-1.zip"))) >= 1


def test_output_is_private_to_the_running_user_by_default(world: World):
    expected_layout(world.out)
    dirs, files = modes(world.out)
    assert len(dirs) >= 6 and len(files) >= 15
    assert {k: oct(v) for k, v in dirs.items() if v != 0o700} == {}
    assert {k: oct(v) for k, v in files.items() if v != 0o600} == {}


def test_output_modes_follow_a_shared_group_config(world: World):
    expected_layout(world.shared_out)
    dirs, files = modes(world.shared_out)
    assert {k: oct(v) for k, v in dirs.items() if v != SHARED[0]} == {}
    assert {k: oct(v) for k, v in files.items() if v != SHARED[1]} == {}


def test_no_names_dates_of_birth_or_id_numbers_in_logs_or_terminal_output(world: World):
    names, dobs, ids = registry_pii(world.inbox)
    assert len(names) > 300 and len(dobs) > 300 and len(ids) > 300
    assert "Beginning flow run" in world.logs and "stage=packages" in world.logs  # the capture worked
    assert "PRIV-1.zip" in world.terminal
    assert _leaks({"logs": world.logs, "terminal": world.terminal}, names, dobs, ids) == []


def test_personal_data_only_in_packages_that_asked_for_it(world: World):
    names, dobs, ids = registry_pii(world.inbox)
    for out in (world.out, world.shared_out):
        assert _leaks(_texts_under(out), names, dobs, ids) == []
    # and the PRIV/1 packages do carry it (the scan above can see personal data when it is there)
    for path in world.out.rglob("packages/PRIV-1.zip"):
        with zipfile.ZipFile(path) as zf:
            assert _leaks({"subscribers.csv": zf.read("subscribers.csv").decode("utf-8-sig")}, names, dobs, ids), path
