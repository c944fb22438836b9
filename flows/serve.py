"""Scheduled operation: the daily run, the hourly intake and the weekly audit as Prefect deployments.

Cron schedules never fire on Prefect's temporary (ephemeral) server, so ``subflag serve`` needs a
persistent one. When ``PREFECT_API_URL`` names a server we use it; otherwise we start
``prefect server start`` on loopback ourselves, with its own ``PREFECT_HOME`` under the data folder, and
stop it when serving ends. All three deployments share one DuckDB warehouse, which allows one writer,
so the runner executes one flow run at a time; a run that comes due meanwhile waits its turn.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from transforms.config import Settings, load_config

if TYPE_CHECKING:
    from prefect.deployments.runner import RunnerDeployment

LOOPBACK = "127.0.0.1"
_NO_TELEMETRY = {"DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}


class ServerStartError(RuntimeError):
    """The local Prefect server did not become healthy; the message carries the tail of its log."""


def free_loopback_port(port: int = 0) -> int:
    """Any free port (0), or check that ``port`` is free: a busy port might answer /health for another server."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: TIME_WAIT is no obstacle
        try:
            s.bind((LOOPBACK, port))
        except OSError as exc:
            raise ServerStartError(f"cannot start a Prefect server on {LOOPBACK}:{port}: {exc.strerror}") from exc
        return int(s.getsockname()[1])


def api_is_healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as resp:  # noqa: S310 - loopback URL we built
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _log_tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def _stop_process_group(proc: subprocess.Popen[bytes], grace_seconds: float) -> None:
    """The server runs in its own session so a terminal's Ctrl-C reaches us first; we end its group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace_seconds)
    except ProcessLookupError:
        pass


def _refuse_if_running(pid_path: Path) -> None:
    """Two servers on one SQLite database corrupt each other's scheduling; refuse a second one."""
    try:
        pid = int(pid_path.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return
    raise ServerStartError(
        f"a Prefect server started by subflag is already running with this home (pid {pid}, {pid_path}); "
        f"stop that `subflag serve`, or set PREFECT_API_URL to use it, or delete {pid_path} if it is stale"
    )


@contextmanager
def local_prefect_server(
    home: Path,
    *,
    port: int = 0,
    ui: bool = True,
    startup_timeout: float = 90.0,
    stop_timeout: float = 15.0,
) -> Iterator[str]:
    """Run ``prefect server start`` on loopback with its own home; yield its API URL; always stop it.

    The server's SQLite database, log (``server.log``) and process id (``server.pid``, while it runs)
    live under ``home``, so a restart keeps the deployments and run history, and a server orphaned by
    a ``kill -9`` of its parent can be found. This process's environment is not changed: callers
    decide how to point a client at the yielded URL.
    """
    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    log_path, pid_path = home / "server.log", home / "server.pid"
    _refuse_if_running(pid_path)
    port = free_loopback_port(port)
    api_url = f"http://{LOOPBACK}:{port}/api"
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(_NO_TELEMETRY)
    env.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")
    env["PREFECT_HOME"] = str(home)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", LOOPBACK, "--port", str(port)]
    command.append("--ui" if ui else "--no-ui")
    with log_path.open("ab") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    pid_path.write_text(f"{proc.pid}\n")
    try:
        deadline = time.monotonic() + startup_timeout
        while proc.poll() is not None or not api_is_healthy(api_url):
            if proc.poll() is not None:
                raise ServerStartError(
                    f"prefect server exited with code {proc.returncode} before it was healthy "
                    f"(log {log_path}):\n{_log_tail(log_path)}"
                )
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"prefect server on {api_url} not healthy after {startup_timeout:.0f} s "
                    f"(log {log_path}):\n{_log_tail(log_path)}"
                )
            time.sleep(0.25)
        yield api_url
    finally:
        _stop_process_group(proc, stop_timeout)
        pid_path.unlink(missing_ok=True)


def _absolute(path: Path) -> str:
    """Deployment parameters outlive this process's working directory, so store absolute paths."""
    return str(Path(path).expanduser().resolve())


def build_deployments(
    settings: Settings,
    *,
    inbox: Path,
    warehouse: Path,
    lake: Path,
    out: Path,
    config_dir: Path | None = None,
) -> list[RunnerDeployment]:
    """The daily run, the hourly intake and the weekly audit, with cron and time zone from schedules.toml.

    No run date is stored: each run resolves its own (the previous local day for the daily run and the
    audit), so a run that starts late still processes the right day.
    """
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType

    from flows.audit import audit_run
    from flows.daily import daily_run
    from flows.intake import intake_run
    from flows.runners import dask_task_runner

    runner = dask_task_runner(settings)  # [scale_out] in run.toml: the daily run's bucket passes on Dask
    daily = daily_run.with_options(task_runner=runner) if runner is not None else daily_run
    s = settings.schedules
    config = _absolute(config_dir or settings.config_dir)
    where = {"warehouse": _absolute(warehouse), "config_dir": config}
    plan = [
        ("daily", daily, s.daily, {**where, "inbox": _absolute(inbox), "lake": _absolute(lake), "out": _absolute(out)}),
        ("intake", intake_run, s.intake, {**where, "inbox": _absolute(inbox), "lake": _absolute(lake), "out": _absolute(out)}),
        ("audit", audit_run, s.audit, where),
    ]
    return [
        flow_.to_deployment(
            name=key,
            schedules=[Cron(schedule.cron, timezone=s.timezone)],
            parameters=parameters,
            description=schedule.description or None,
            tags=["subflag", key],
            entrypoint_type=EntrypointType.MODULE_PATH,
        )
        for key, flow_, schedule, parameters in plan
    ]


@contextmanager
def _sigterm_exits() -> Iterator[None]:
    """Turn SIGTERM into SystemExit so ``finally`` blocks (stopping our server) run under a supervisor."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def configured_api_url() -> str | None:
    """The Prefect API this process would use (environment or active profile), if any."""
    from prefect.settings import PREFECT_API_URL

    return PREFECT_API_URL.value() or None


def serve_forever(
    settings: Settings,
    *,
    inbox: Path,
    warehouse: Path,
    lake: Path,
    out: Path,
    config_dir: Path | None = None,
    prefect_home: Path,
    port: int = 0,
    ui: bool = True,
) -> None:
    """Serve the deployments until interrupted; start (and finally stop) a local server if none is set."""
    import prefect
    from prefect.settings import PREFECT_API_URL, PREFECT_HOME, temporary_settings

    deployments = build_deployments(settings, inbox=inbox, warehouse=warehouse, lake=lake, out=out,
                                    config_dir=config_dir)
    existing = configured_api_url()
    if existing:
        print(f"serving on the Prefect server at {existing}", flush=True)
        prefect.serve(*deployments, limit=1)
        return
    home = prefect_home.resolve()
    with _sigterm_exits(), local_prefect_server(home, port=port, ui=ui) as api_url:
        print(f"started a local Prefect server at {api_url.removesuffix('/api')} (PREFECT_HOME {home}); it stops "
              f"when serving ends. From another shell: PREFECT_API_URL={api_url} prefect deployment run "
              "subflag-daily/daily", flush=True)
        with temporary_settings(updates={PREFECT_API_URL: api_url, PREFECT_HOME: home}):
            prefect.serve(*deployments, limit=1)


def serve_command(
    inbox: Path | None = None,
    warehouse: Path | None = None,
    lake: Path | None = None,
    out: Path | None = None,
    config: Path | None = None,
    prefect_home: Path | None = None,
    port: int = 0,
    ui: bool = True,
) -> None:
    """``subflag serve``: run the daily, intake and audit deployments on their cron schedules.

    Options (each path defaults to ``config/run.toml`` ``[paths]``):

    - ``inbox``, ``warehouse``, ``lake``, ``out`` — the same folders and file as ``subflag run``.
    - ``config`` — config folder; schedules come from its ``schedules.toml`` (cron + time zone).
    - ``prefect_home`` — PREFECT_HOME of the local server started when ``PREFECT_API_URL`` is unset
      (default: ``prefect/`` next to the warehouse, i.e. ``data/prefect``); its database keeps the
      deployments and run history across restarts.
    - ``port`` — loopback port of that local server (0 = any free port); the Prefect UI is served there
      too unless ``ui`` is False.

    With ``PREFECT_API_URL`` set (environment or Prefect profile), no server is started and the
    deployments are registered with that server. Stops on Ctrl-C or SIGTERM, pausing the schedules and
    stopping the local server.
    """
    settings = load_config(config)
    paths = settings.run.paths
    warehouse = warehouse or paths.warehouse
    serve_forever(
        settings,
        inbox=inbox or paths.inbox,
        warehouse=warehouse,
        lake=lake or paths.lake,
        out=out or paths.out,
        config_dir=config,
        prefect_home=prefect_home or Path(warehouse).parent / "prefect",
        port=port,
        ui=ui,
    )
