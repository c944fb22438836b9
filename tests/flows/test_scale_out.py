"""The feature stage three ways — in-process, on a 2-worker Dask LocalCluster, and with another bucket
count — gives the same feature table row for row (issue: scale-out)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.flows.conftest import copy_config
from transforms.config import load_config
from transforms.simulate import SimulationSpec, simulate_inbox

RUN_DATE = date(2024, 3, 5)
COMPARED = ("cdr_subscriber_features", "complaint_subscriber_features", "candidates")


def features_table(warehouse: Path, table: str) -> pl.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.sql(f"SELECT * EXCLUDE (run_id) FROM {table} ORDER BY ALL").pl()
    return frame


def with_buckets(config_dir: Path, buckets: int) -> Path:
    path = config_dir / "run.toml"
    text, n = re.subn(r"(?m)^buckets\s*=\s*\d+", f"buckets = {buckets}", path.read_text(encoding="utf-8"))
    assert n == 1, f"no [cdr] buckets line in {path}"
    path.write_text(text, encoding="utf-8")
    return config_dir


def run_daily(root: Path, inbox: Path, name: str, config_dir: Path | None = None, task_runner=None):
    from flows.daily import daily_run

    flow = daily_run.with_options(task_runner=task_runner) if task_runner is not None else daily_run
    state = flow(run_date=RUN_DATE, inbox=inbox, warehouse=root / name / "warehouse.duckdb", lake=root / name / "lake",
                 out=root / name / "out", config_dir=config_dir, return_state=True)
    return state.result(), state.state_details.flow_run_id


def task_run_names(flow_run_id) -> list[str]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))
    return [r.name for r in runs]


@pytest.fixture(scope="module")
def three_ways(tmp_path_factory, prefect_harness) -> dict[str, tuple]:
    from prefect_dask import DaskTaskRunner

    root = tmp_path_factory.mktemp("scale-out")
    inbox = root / "inbox"
    simulate_inbox(SimulationSpec(subscribers=3_000, days=3, end_date=RUN_DATE, seed=5), load_config(), inbox, root / "truth")
    dask = DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1, "processes": True,
                                          "dashboard_address": None})
    return {
        "single": run_daily(root, inbox, "single"),
        "dask": run_daily(root, inbox, "dask", task_runner=dask),
        "buckets3": run_daily(root, inbox, "buckets3", config_dir=with_buckets(copy_config(root / "config3"), 3)),
    }


def test_dask_runs_each_bucket_pass_as_its_own_task(three_ways) -> None:
    summary, flow_run_id = three_ways["dask"]
    names = task_run_names(flow_run_id)
    passes = [n for n in names if n.startswith("bucket_features-")]
    assert len(passes) == summary.rows["bucket_passes"] > 1
    assert not [n for n in names if n.startswith("bucket_features_in_process")]
    single_names = task_run_names(three_ways["single"][1])
    assert [n for n in single_names if n.startswith("bucket_features_in_process")]
    assert not [n for n in single_names if n.startswith("bucket_features-")]


@pytest.mark.parametrize("way", ["dask", "buckets3"])
@pytest.mark.parametrize("table", COMPARED)
def test_tables_identical_to_single_process(three_ways, way: str, table: str) -> None:
    single = features_table(three_ways["single"][0].warehouse, table)
    other = features_table(three_ways[way][0].warehouse, table)
    assert single.height > 0
    assert_frame_equal(single, other)


def test_bucket_counts_really_differ(three_ways) -> None:
    single, buckets3 = three_ways["single"][0], three_ways["buckets3"][0]
    assert single.rows["bucket_passes"] != buckets3.rows["bucket_passes"]
    assert not list((single.warehouse.parent / "lake" / "_work").glob("*")), "part files left behind"
