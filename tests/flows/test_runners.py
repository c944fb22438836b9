"""Runner selection: embedded by default; command line beats config; pass limits come from [scale_out]."""

from __future__ import annotations

from prefect_dask import DaskTaskRunner

from flows.runners import dask_task_runner, pass_limits


def _with_scale_out(settings, **update):
    so = settings.run.scale_out.model_copy(update=update)
    return settings.model_copy(update={"run": settings.run.model_copy(update={"scale_out": so})})


def test_default_is_embedded(settings) -> None:
    assert dask_task_runner(settings) is None


def test_address_from_command_line_or_config(settings) -> None:
    runner = dask_task_runner(settings, address="tcp://10.0.0.5:8786")
    assert isinstance(runner, DaskTaskRunner) and runner.address == "tcp://10.0.0.5:8786"
    configured = _with_scale_out(settings, dask_address="tcp://10.0.0.9:8786")
    assert dask_task_runner(configured).address == "tcp://10.0.0.9:8786"
    assert dask_task_runner(configured, address="tcp://10.0.0.5:8786").address == "tcp://10.0.0.5:8786"


def test_local_cluster_takes_worker_count_and_memory(settings) -> None:
    runner = dask_task_runner(_with_scale_out(settings, worker_memory="3GB"), local_workers=3)
    assert runner.address is None
    assert runner.cluster_kwargs["n_workers"] == 3 and runner.cluster_kwargs["memory_limit"] == "3GB"
    assert runner.cluster_kwargs["threads_per_worker"] == 1


def test_pass_limits_are_the_workers_share(settings) -> None:
    limits = pass_limits(_with_scale_out(settings, pass_threads=2, pass_memory_limit="1500MB"))
    assert (limits.threads, limits.memory_limit) == (2, "1500MB")
    assert limits.temp_directory == settings.run.duckdb.temp_directory
