"""Which task runner the daily flow uses: embedded (default) or Prefect's DaskTaskRunner.

Only the feature stage's bucket passes are submitted to the runner; every other task runs in the
flow's own process, next to the warehouse file it holds open.
"""

from __future__ import annotations

from typing import Any

from prefect.context import FlowRunContext

from transforms.config import DuckDBSettings, Settings


def dask_task_runner(settings: Settings, address: str | None = None, local_workers: int | None = None) -> Any | None:
    """A DaskTaskRunner for an existing cluster (address) or a LocalCluster of N workers; else None.

    Command-line values win over config ([scale_out] in run.toml).
    """
    so = settings.run.scale_out
    address = address if address is not None else so.dask_address
    local_workers = local_workers if local_workers is not None else so.local_workers
    if not address and not local_workers:
        return None
    from prefect_dask import DaskTaskRunner  # the optional `dask` extra

    if address:
        return DaskTaskRunner(address=address)
    return DaskTaskRunner(cluster_kwargs={
        "n_workers": local_workers,
        "threads_per_worker": 1,
        "processes": True,
        "memory_limit": so.worker_memory,
        "dashboard_address": None,
    })


def runs_on_dask() -> bool:
    """Whether the running flow was given a DaskTaskRunner (then bucket passes are submitted to it)."""
    ctx = FlowRunContext.get()
    runner = getattr(ctx, "task_runner", None)
    return type(runner).__name__ == "DaskTaskRunner"


def pass_limits(settings: Settings) -> DuckDBSettings:
    """DuckDB limits of one bucket pass on a worker: the worker's share, not the flow machine's."""
    so = settings.run.scale_out
    return settings.run.duckdb.model_copy(update={"threads": so.pass_threads, "memory_limit": so.pass_memory_limit})
