"""`subflag serve` against a real Prefect server: cron schedules exist; intake, daily and audit runs complete.

Everything Prefect-side runs in a child process (``serve_command``, which starts its own
``prefect server start`` on loopback with a temporary home); this test only talks to that server through
an explicit client, so the session's ``prefect_test_harness`` and settings are untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.flows.conftest import copy_config, set_schedule
from transforms.config import PROJECT_ROOT, load_config

pytestmark = pytest.mark.server

STARTUP_TIMEOUT = 60.0
RUN_TIMEOUT = 120.0
_CHILD_DROPS = ("PREFECT_API_URL", "PREFECT_RESULTS_LOCAL_STORAGE_PATH", "PREFECT_PROFILES_PATH")


def _crons_far_from_now(config: Path, tz: str) -> int:
    """Schedules twelve hours away: they must appear as scheduled runs but never fire during the test."""
    hour = (datetime.now(ZoneInfo(tz)).hour + 12) % 24
    set_schedule(config, "daily", f"0 {hour} * * *")
    set_schedule(config, "intake", f"20 {hour} * * *")
    set_schedule(config, "audit", f"40 {hour} * * *")
    return hour


def _wait_for(what: str, probe, timeout: float, proc: subprocess.Popen, log: Path):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if proc.poll() is not None:
            pytest.fail(f"serve exited with {proc.returncode} while waiting for {what}:\n{log.read_text()[-4000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}:\n{log.read_text()[-4000:]}")
        time.sleep(0.5)


def _stop(proc: subprocess.Popen, server_pid_file: Path) -> int:
    """SIGTERM, as a supervisor would send; if serve hangs, kill it and the server it started."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=45)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
            if server_pid_file.is_file():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.killpg(int(server_pid_file.read_text()), signal.SIGKILL)
    return proc.returncode


def _read_deployment(client, name: str):
    from prefect.exceptions import ObjectNotFound

    try:
        return client.read_deployment_by_name(name)
    except ObjectNotFound:
        return None


def _final_run(client, run_id):
    run = client.read_flow_run(run_id)
    return run if run.state is not None and run.state.is_final() else None


def _run_to_completion(client, deployment, proc: subprocess.Popen, log: Path):
    from prefect.client.schemas.objects import StateType

    triggered = client.create_flow_run_from_deployment(deployment.id)
    finished = _wait_for(f"a run of {deployment.name}", lambda: _final_run(client, triggered.id), RUN_TIMEOUT, proc, log)
    if finished.state.type != StateType.COMPLETED:
        pytest.fail(f"{deployment.name} run ended {finished.state!r}; serve log:\n{log.read_text()[-6000:]}")
    return finished


def _scheduled_runs(client, deployment):
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    return client.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment.id])),
        flow_run_filter=FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED]))),
    )


def _serve_in_child(root: Path, config: Path, port: int, log: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k not in _CHILD_DROPS}
    env["PREFECT_HOME"] = str(root / "prefect")
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PREFECT_RUNNER_POLL_FREQUENCY"] = "1"  # pick triggered runs up at once (default: every 10 s)
    call = (
        "from pathlib import Path; from flows.serve import serve_command; "
        f"root = Path({str(root)!r}); "
        "serve_command(inbox=root / 'inbox', warehouse=root / 'warehouse.duckdb', lake=root / 'lake', "
        f"out=root / 'out', config=Path({str(config)!r}), prefect_home=root / 'prefect', port={port}, ui=False)"
    )
    with log.open("wb") as fh:
        return subprocess.Popen([sys.executable, "-c", call], cwd=root, env=env, stdout=fh,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)


def test_served_deployments_run_on_a_real_server() -> None:
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from flows.artifacts import CANDIDATES_KEY, SUMMARY_KEY
    from flows.intake import FAST_LANE_KINDS
    from flows.serve import api_is_healthy, free_loopback_port
    from transforms.ingest import discover_deliveries
    from transforms.lineage import derive_run_id
    from transforms.simulate import MIN_SUBSCRIBERS, SimulationSpec, simulate_inbox
    from transforms.warehouse import connect, query_model

    root = Path(tempfile.mkdtemp(prefix="subflag-serve-test-"))
    log, pid_file = root / "serve.log", root / "prefect" / "server.pid"
    proc: subprocess.Popen | None = None
    try:
        config = copy_config(root / "config")
        local_hour = _crons_far_from_now(config, load_config(config).schedules.timezone)
        settings = load_config(config)
        tz = ZoneInfo(settings.run.timezone)
        today = datetime.now(tz).date()
        yesterday = today - timedelta(days=1)
        simulate_inbox(SimulationSpec(subscribers=MIN_SUBSCRIBERS, days=2, end_date=yesterday, seed=1), settings,
                       root / "inbox", root / "truth")
        deliveries, _ = discover_deliveries(root / "inbox", settings.carrier_slugs())
        fast_lane = {d.sha256: d.kind for d in deliveries if d.kind in FAST_LANE_KINDS}
        assert fast_lane and len(fast_lane) < len(deliveries), "the simulated inbox needs both lanes"
        intake_run_id = derive_run_id(today, set(fast_lane), settings.digest)
        daily_run_id = derive_run_id(yesterday, {d.sha256 for d in deliveries}, settings.digest)

        port = free_loopback_port()
        api_url = f"http://127.0.0.1:{port}/api"
        proc = _serve_in_child(root, config, port, log)
        _wait_for("the local Prefect server", lambda: api_is_healthy(api_url), STARTUP_TIMEOUT, proc, log)
        with SyncPrefectClient(api_url) as client:
            deployment = {
                key: _wait_for(f"deployment {name}", lambda name=name: _read_deployment(client, name), STARTUP_TIMEOUT, proc, log)
                for key, name in (("daily", "subflag-daily/daily"), ("intake", "subflag-intake/intake"),
                                  ("audit", "subflag-audit/audit"))
            }
            assert {k: [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules] for k, d in deployment.items()} == {
                "daily": [(f"0 {local_hour} * * *", "Asia/Ho_Chi_Minh", True)],
                "intake": [(f"20 {local_hour} * * *", "Asia/Ho_Chi_Minh", True)],
                "audit": [(f"40 {local_hour} * * *", "Asia/Ho_Chi_Minh", True)],
            }

            _run_to_completion(client, deployment["intake"], proc, log)
            daily = _run_to_completion(client, deployment["daily"], proc, log)
            _run_to_completion(client, deployment["audit"], proc, log)

            scheduled = _wait_for("runs scheduled from the cron", lambda: _scheduled_runs(client, deployment["daily"]),
                                  30, proc, log)
            assert {(t.hour, t.minute) for t in (r.expected_start_time.astimezone(tz) for r in scheduled)} == {(local_hour, 0)}

            artifacts = client.read_artifacts(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[daily.id])))
            by_key = {a.key: a for a in artifacts}
            assert sorted(by_key) == sorted([CANDIDATES_KEY, SUMMARY_KEY])
            assert (by_key[CANDIDATES_KEY].type, by_key[SUMMARY_KEY].type) == ("table", "markdown")
            table = json.loads(by_key[CANDIDATES_KEY].data)
            markdown = by_key[SUMMARY_KEY].data

        assert _stop(proc, pid_file) == 0, log.read_text()[-4000:]
        assert not api_is_healthy(api_url), "the local Prefect server outlived `serve`"
        assert not pid_file.exists()
        assert markdown.startswith(f"# subflag daily run `{daily_run_id}` for {yesterday.isoformat()}\n")
        duckdb_settings = settings.run.duckdb.model_copy(update={"temp_directory": root / "duckdb-tmp"})
        with connect(root / "warehouse.duckdb", duckdb_settings, read_only=True) as con:
            expected = query_model(con, "report/candidates_by_carrier_action", {"run_date": yesterday}).to_dicts()
            ledger = con.table("ingest_log").select("sha256", "run_id").fetchall()
            executions = con.table("runs").order("started_at").select("flow", "run_id", "status").fetchall()
        assert expected, "the simulated day yields no candidates, so the table artifact proves nothing"
        assert table == json.loads(json.dumps(expected, default=str))
        assert executions == [("intake", intake_run_id, "completed"), ("daily", daily_run_id, "completed"),
                              ("audit", executions[2][1], "completed")]
        assert {sha for sha, run_id in ledger if run_id == intake_run_id} == set(fast_lane)
        landed_by_daily = {sha for sha, run_id in ledger if run_id != intake_run_id}
        assert landed_by_daily and {run_id for _, run_id in ledger} == {intake_run_id, daily_run_id}
        assert not landed_by_daily & set(fast_lane)
    finally:
        if proc is not None:
            _stop(proc, pid_file)
        shutil.rmtree(root, ignore_errors=True)
