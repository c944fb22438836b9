"""Crash recovery: SIGKILL `subflag run` at every named kill point, rerun the date, compare with a clean run.

DESIGN.md §10: a killed run leaves no half-written output visible and no duplicated rows, and re-running
the same date gives the same result. For each kill point (:mod:`transforms.faults`) the harness runs
`subflag run` in its own process with ``SUBFLAG_KILL_AT=<point>``, checks that it really died by SIGKILL
there (a run that exits normally never reached the point, and the test fails: no point is vacuous), reruns
the same date without the variable, and then requires the warehouse and its analysts' snapshot (every
table's row count and content hash), the CDR lake and the output folder (relative paths and bytes) and the
warehouse folder's file names to equal those of one clean run, and the run journal to show the killed
execution as not completed.

One small world (the simulator's minimum population, one day, every carrier, two authority requests) is
simulated once; attempts get fresh warehouse/lake/out folders and share the read-only inbox. Runtime
(about 3 minutes on a shared 2-core machine) is kept down three ways: every run talks to one Prefect
server started for this module instead of starting its own temporary one (8-10 s each); runs are forked
from launcher processes that imported subflag once (see ``_LAUNCHER``); two attempts run at a time.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.flows.conftest import copy_config
from transforms.config import PROJECT_ROOT, load_config
from transforms.faults import ENV as KILL_ENV

RUN_DATE = date(2024, 3, 5)
RUN_TIMEOUT = 240.0  # seconds per subprocess; a hang is a failure, not a wait for the CI's timeout
WORKERS = 2  # attempts at a time
LAKE_BUCKETS = 2  # of the config's [cdr] buckets: fewer feature passes per run (still several per carrier)

# Where the daily run is killed: ``name`` or ``name@n`` (the n-th arrival). Stage order; the feature
# stage's two points come last (they were added to the feature stage after the others).
KILL_POINTS: dict[str, str] = {
    "ingest.land@4": "a landed file's rows, rejects and ledger row inside its DuckDB transaction (4th file)",
    "cdr.spool@2": "a CDR file's accepted rows spooled, nothing in the lake yet (2nd CDR file)",
    "cdr.publish@3": "between two lake renames: some partitions published, the next one still a temp file",
    "cdr.inbound": "caller-bucketed partitions published, callee projection not yet",
    "landing.cdr@2": "a CDR file's lake files in place, its ledger row not committed (2nd CDR file)",
    "daily.loaded": "every file landed and committed, before the feature stage",
    "checks.recorded": "subscriber checks written inside their transaction, not committed",
    "flag.candidates": "rule hits and candidates written inside the flag transaction, not committed",
    "writers.csv": "a candidate CSV written under its temp name, not renamed",
    "writers.xlsx": "a candidate XLSX written under its temp name, not renamed",
    "writers.parquet": "a candidate Parquet written under its temp name, not renamed",
    "export.between_carriers": "one carrier's candidate files written, the next carrier's not",
    "export.run_wide": "the first run-wide alert file written, the others not",
    "packaging.signed": "a package's manifest signed, its zip not written",
    "packaging.zip@3": "inside a package zip: three members written, temp file not renamed",
    "packages.record": "a package zip in place, its request_packages row not recorded",
    "report.write": "report.html written under its temp name, not renamed",
    "runs.finish": "every output written, the run journal still says 'running'",
    "snapshot.publish": "the analysts' snapshot copied under its temp name, not renamed",
    "features.pass": "feature stage: after a bucket pass",
    "features.insert": "feature stage: inside the final insert transaction, before commit",
}
# Points reached after runs.finish closed the journal row: the killed execution is recorded 'completed'
# (its stages all finished; only the snapshot copy was cut short).
AFTER_JOURNAL_CLOSE = {"snapshot.publish"}

# Excluded from the content comparison, with the reason. Nothing else is.
JOURNAL_TABLES = {
    "runs": "the run journal: one row per execution (the killed attempt is one) with wall-clock start and finish",
}
WALL_CLOCK_COLUMNS = {
    "ingest_log": ("ingested_at",),  # when the file was landed (wall clock), not what it holds
    "registry_check_runs": ("checked_at",),  # when the checks ran (wall clock)
    "request_packages": ("first_built_at", "last_built_at"),  # audit wall clock of package builds
}


@dataclass(frozen=True)
class Attempt:
    """One set of run folders; the subprocess's working directory holds DuckDB's spill folder."""

    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "wh" / "warehouse.duckdb"

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def out(self) -> Path:
        return self.root / "out"

    @property
    def work(self) -> Path:
        return self.root / "cwd"


@dataclass(frozen=True)
class World:
    inbox: Path
    config: Path
    clean: Attempt
    launchers: list[Launcher]


@dataclass(frozen=True)
class Outcome:
    point: str
    attempt: Attempt
    killed_rc: int
    rerun_rc: int
    seconds: float


# `subflag run` in a forked child of a process that imported subflag once. Importing Prefect, DuckDB,
# polars and the flows costs 1.5-3 s of CPU per process; forking a process that has imported them (and
# started no thread, so the fork is clean) runs exactly the console script's code, ``flows.cli:app``,
# without that cost. The child really is a separate process: SIGKILL ends it, not the launcher, which
# reports the exit status (negative: the signal) as one JSON line. A bonus on a shared tree: every run
# executes the Python code as it was when the launchers started, and states the same code version in
# its package manifests, even if someone commits meanwhile.
_LAUNCHER = r"""
import json, os, sys, threading, traceback
import flows.cli, flows.daily
from transforms.lineage import code_version
print(json.dumps({"code_version": code_version()}), flush=True)  # cached: every child states the same version
assert threading.active_count() == 1, threading.enumerate()  # a fork must not lose a running thread
for line in sys.stdin:
    req = json.loads(line)
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.chdir(req["cwd"])
            os.environ.pop(req["kill_env"], None)
            os.environ.update(req["env"])
            fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1); os.dup2(fd, 2)
            flows.cli.app(req["args"], prog_name="subflag")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    print(json.dumps({"pid": pid}), flush=True)
    _, status = os.waitpid(pid, 0)
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    print(json.dumps({"rc": rc}), flush=True)
"""


class Launcher:
    """One launcher process; :meth:`run` runs one `subflag run` at a time (use one launcher per thread)."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as fh:
            self.proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER], env=env, cwd=PROJECT_ROOT, text=True,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=fh)
        self.code_version = self._reply()["code_version"]

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the launcher exited ({self.proc.poll()}):\n{_tail(self.log)}")
        return json.loads(line)

    def run(self, args: list[str], cwd: Path, log: Path, env: dict[str, str]) -> int:
        self.proc.stdin.write(json.dumps({"args": args, "cwd": str(cwd), "log": str(log), "env": env,
                                          "kill_env": KILL_ENV}) + "\n")
        self.proc.stdin.flush()
        pid = self._reply()["pid"]
        timed_out = threading.Event()
        watchdog = threading.Timer(RUN_TIMEOUT, lambda: (timed_out.set(), os.kill(pid, signal.SIGKILL)))
        watchdog.start()
        try:
            rc = self._reply()["rc"]
        finally:
            watchdog.cancel()
        if timed_out.is_set():
            raise TimeoutError(f"`subflag {' '.join(args)}` did not finish within {RUN_TIMEOUT:.0f} s:\n{_tail(log)}")
        return rc

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def _env(root: Path, api_url: str) -> dict[str, str]:
    from transforms.signing import init_keys

    private_key, _ = init_keys(root / "keys")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != KILL_ENV}
    env.update({
        "DO_NOT_TRACK": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_API_URL": api_url,
        "PREFECT_HOME": str(root / "prefect-client"),
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "SUBFLAG_SIGNING_KEY": str(private_key),  # one key: packages are byte-comparable across attempts
        "SUBFLAG_PSEUDONYM_KEY": secrets.token_hex(32),
    })
    return env


def _small_lake_config(dest: Path) -> Path:
    config = copy_config(dest)
    run_toml = config / "run.toml"
    text, n = re.subn(r"^buckets\s*=\s*[0-9]+", f"buckets = {LAKE_BUCKETS}", run_toml.read_text(encoding="utf-8"),
                      flags=re.MULTILINE)
    assert n == 1, f"no [cdr] buckets line in {run_toml}"
    run_toml.write_text(text, encoding="utf-8")
    return config


def run_daily(world: World, launcher: Launcher, attempt: Attempt, log: Path, kill_at: str | None = None) -> int:
    """`subflag run` for RUN_DATE into the attempt's folders; its exit status (-9: killed by SIGKILL)."""
    attempt.work.mkdir(parents=True, exist_ok=True)
    args = ["run", "--config", str(world.config), "--inbox", str(world.inbox), "--warehouse", str(attempt.warehouse),
            "--lake", str(attempt.lake), "--out", str(attempt.out), "--date", RUN_DATE.isoformat()]
    return launcher.run(args, attempt.work, log, {KILL_ENV: kill_at} if kill_at else {})


def _tail(log: Path, chars: int = 3000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.is_file() else "(no log)"


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    from flows.serve import local_prefect_server
    from transforms.simulate import MIN_SUBSCRIBERS, SimulationSpec, simulate_inbox

    root = tmp_path_factory.mktemp("crash")
    config = _small_lake_config(root / "config")
    inbox = root / "inbox"
    simulate_inbox(SimulationSpec(subscribers=MIN_SUBSCRIBERS, days=1, end_date=RUN_DATE, seed=11), load_config(config),
                   inbox, root / "truth")
    with local_prefect_server(root / "prefect-server", ui=False) as api_url:
        env = _env(root, api_url)
        launchers = [Launcher(env, root / f"launcher-{i}.log") for i in range(WORKERS)]
        try:
            versions = {launcher.code_version for launcher in launchers}
            assert len(versions) == 1, f"the code changed while the launchers started ({versions}); run again"
            w = World(inbox, config, Attempt(root / "clean"), launchers)
            rc = run_daily(w, launchers[0], w.clean, root / "clean.log")
            assert rc == 0, f"clean reference run failed with exit code {rc}:\n{_tail(root / 'clean.log')}"
            yield w
        finally:
            for launcher in launchers:
                launcher.close()


@pytest.fixture(scope="module")
def outcomes(world: World) -> dict[str, Outcome]:
    """Every kill point: a killed run, then a rerun of the same date; WORKERS attempts at a time."""
    free: queue.Queue[Launcher] = queue.Queue()
    for launcher in world.launchers:
        free.put(launcher)

    def one(point: str) -> Outcome:
        started = time.perf_counter()
        slug = re.sub(r"[^A-Za-z0-9]+", "-", point)
        attempt = Attempt(world.clean.root.parent / f"kill-{slug}")
        launcher = free.get()
        try:
            killed = run_daily(world, launcher, attempt, attempt.root / "killed.log", kill_at=point)
            rerun = run_daily(world, launcher, attempt, attempt.root / "rerun.log") if killed == -9 else 0
        finally:
            free.put(launcher)
        return Outcome(point, attempt, killed, rerun, time.perf_counter() - started)

    with ThreadPoolExecutor(max_workers=len(world.launchers)) as pool:
        return {o.point: o for o in pool.map(one, KILL_POINTS)}


# --------------------------------------------------------------------------------------------- comparison


def file_digests(folder: Path) -> dict[str, str]:
    """Relative path → SHA-256 of every file (hidden and temp files included: a leftover is a difference)."""
    if not folder.is_dir():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _row_query(con: duckdb.DuckDBPyConnection, table: str) -> str:
    cols = [r[0] for r in con.execute(
        "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'main' AND table_name = $t ORDER BY column_index",
        {"t": table}).fetchall()]
    keep = [c for c in cols if c not in WALL_CLOCK_COLUMNS.get(table, ())]
    select = ", ".join(f'"{c}"' for c in keep)
    # Absolute paths (request_packages.package_path) differ only by the attempt's folder: compare them relative.
    return f'SELECT replace(CAST(s AS VARCHAR), $root, \'<root>\') AS r FROM (SELECT {select} FROM "{table}") s'


def table_digests(db: Path, root: Path) -> dict[str, tuple[int, str]]:
    """Table → (rows, MD5 over all rows as text, sorted); journal tables are left out."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1").fetchall()]
        out: dict[str, tuple[int, str]] = {}
        for t in tables:
            if t in JOURNAL_TABLES:
                continue
            n, digest = con.execute(
                f"SELECT count(*), md5(coalesce(string_agg(r, chr(10) ORDER BY r), '')) FROM ({_row_query(con, t)})",
                {"root": str(root)}).fetchone()
            out[t] = (int(n), digest)
    return out


def table_rows(db: Path, root: Path, table: str) -> Counter[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return Counter(r[0] for r in con.execute(_row_query(con, table), {"root": str(root)}).fetchall())


def _diff_files(what: str, clean: dict[str, str], got: dict[str, str]) -> list[str]:
    problems = [f"{what}: {p} missing after recovery" for p in sorted(clean.keys() - got.keys())]
    problems += [f"{what}: {p} left over after recovery (not in the clean run)" for p in sorted(got.keys() - clean.keys())]
    problems += [f"{what}: {p} bytes differ from the clean run" for p in sorted(clean.keys() & got.keys()) if clean[p] != got[p]]
    return problems


def _diff_tables(label: str, clean_db: Path, clean_root: Path, db: Path, root: Path) -> list[str]:
    clean, got = table_digests(clean_db, clean_root), table_digests(db, root)
    problems = [f"{label}: table {t} missing" for t in sorted(clean.keys() - got.keys())]
    problems += [f"{label}: table {t} not in the clean run" for t in sorted(got.keys() - clean.keys())]
    for t in sorted(clean.keys() & got.keys()):
        if clean[t] == got[t]:
            continue
        a, b = table_rows(clean_db, clean_root, t), table_rows(db, root, t)
        only_clean = [r[:300] for r in list((a - b).elements())[:3]]
        only_got = [r[:300] for r in list((b - a).elements())[:3]]
        problems.append(f"{label}: table {t}: {clean[t][0]} rows clean, {got[t][0]} after recovery; "
                        f"only in clean: {only_clean}; only after recovery: {only_got}")
    return problems


def compare_with_clean(clean: Attempt, got: Attempt) -> list[str]:
    from transforms.snapshot import snapshot_path

    problems = _diff_tables("warehouse", clean.warehouse, clean.root, got.warehouse, got.root)
    problems += _diff_tables("snapshot", snapshot_path(clean.warehouse), clean.root, snapshot_path(got.warehouse), got.root)
    problems += _diff_files("lake", file_digests(clean.lake), file_digests(got.lake))
    problems += _diff_files("out", file_digests(clean.out), file_digests(got.out))
    # The warehouse folder: only the database and its snapshot (no WAL, no temp copies); bytes differ by design.
    names = lambda a: {p.name: "" for p in a.warehouse.parent.iterdir()}  # noqa: E731
    problems += _diff_files("warehouse folder", names(clean), names(got))
    return problems


def journal(db: Path) -> list[tuple[str, str | None]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT status, error FROM runs WHERE flow = 'daily' ORDER BY started_at").fetchall()


# --------------------------------------------------------------------------------------------- tests


def test_clean_world_reaches_every_kind_of_output(world: World):
    """The world is big enough for the kill points to mean something: several carriers' candidate files,
    packages, run-wide files, a lake over several carriers."""
    day = world.clean.out / RUN_DATE.isoformat()
    carriers = sorted(p.parent.name for p in day.glob("*/suspension_candidates.csv"))
    assert len(carriers) >= 2, f"candidate files for {carriers}: need two carriers for export.between_carriers"
    assert list(day.glob("*/packages/*.zip")), "no package was built: the world needs an authority request"
    assert (day / "report.html").is_file() and (day / "spoofing_alerts.csv").is_file()
    assert len(list((world.clean.lake / "cdr").glob("carrier=*"))) >= 2
    assert journal(world.clean.warehouse) == [("completed", None)]


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_killed_run_recovers_to_the_clean_result(point: str, world: World, outcomes: dict[str, Outcome]):
    o = outcomes[point]
    killed_log, rerun_log = o.attempt.root / "killed.log", o.attempt.root / "rerun.log"
    if o.killed_rc == 0:
        pytest.fail(f"kill point {point!r} was never reached: the run completed normally (is the "
                    f"kill_point({point.split('@')[0]!r}) line in the code, and does this world reach it?)")
    assert o.killed_rc == -9, f"run with {KILL_ENV}={point} ended with {o.killed_rc}, not SIGKILL:\n{_tail(killed_log)}"
    assert o.rerun_rc == 0, f"rerun after a kill at {point} failed with {o.rerun_rc}:\n{_tail(rerun_log)}"

    runs = journal(o.attempt.warehouse)
    assert len(runs) == 2, f"journal should hold the killed execution and the rerun, found {runs}"
    (killed_status, killed_error), rerun = runs
    assert rerun == ("completed", None)
    if point in AFTER_JOURNAL_CLOSE:
        assert killed_status == "completed", runs
    else:
        assert killed_status == "failed" and (killed_error or "").startswith("abandoned"), (
            f"the killed execution should be closed as abandoned by the rerun, journal: {runs}")

    problems = compare_with_clean(world.clean, o.attempt)
    assert not problems, f"after a kill at {point} and a rerun:\n  " + "\n  ".join(problems)


def test_every_kill_point_in_the_code_is_exercised():
    """A kill point added to the code without a place in this harness would protect nothing."""
    found: set[str] = set()
    for folder in ("transforms", "flows"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            found |= set(re.findall(r'kill_point\(\s*"([^"]+)"\s*\)', path.read_text(encoding="utf-8")))
    exercised = {p.split("@")[0] for p in KILL_POINTS}
    assert found - exercised == set(), f"kill points in the code but not in KILL_POINTS: {sorted(found - exercised)}"
    assert len(KILL_POINTS) >= 20
