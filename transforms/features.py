"""Feature stage driver: which SQL model runs over which lake files, bucket by bucket.

Memory in a per-subscriber aggregation grows with the number of distinct callers, and a carrier-day has
tens of millions of them. The lake is already partitioned by ``a_number % buckets`` (see
:mod:`transforms.cdr`), so one pass per (carrier, bucket) reads only that bucket's files for the window
and holds only that bucket's subscribers — faster than one big query, with a fraction of the memory
(measured in /work/shared/STACK_NOTES.md). A pass reads files only (the lake and a snapshot of ported
numbers) and writes a part file, so the same function runs in this process or on a Dask worker
(flows/daily.py picks); one transaction then loads the parts. All SQL is in ``sql/features/``; this
module only picks files and parameters.

Complaint joins (corroboration, per-number complaint features, prefix hot-spots) are separate models
that read ``stg_complaints``; :func:`compute_complaint_features` runs them in order.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from transforms.cdr import cdr_root, inbound_root, lake_layout
from transforms.config import DuckDBSettings, Settings
from transforms.faults import kill_point
from transforms.warehouse import connect, query_model, run_model, transaction, write_model_parquet


@dataclass
class FeatureStats:
    run_date: date
    window_days: int
    passes: int = 0
    files_read: int = 0
    subscribers: dict[str, int] = field(default_factory=dict)  # feature rows per carrier
    shared_imei_subscribers: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class BucketPass:
    """One unit of work: a carrier's bucket over the window (plus history for new-callee lookups)."""

    carrier: str
    bucket: int
    files: list[str]
    history_files: list[str]
    inbound_files: list[str]


def window_days(run_date: date, days: int) -> list[date]:
    """The ``days`` local days ending on ``run_date`` (inclusive), oldest first."""
    return [run_date - timedelta(days=d) for d in range(days - 1, -1, -1)]


def lake_carriers(lake: Path) -> list[str]:
    root = cdr_root(lake)
    return sorted(p.name.split("=", 1)[1] for p in root.glob("carrier=*") if p.is_dir()) if root.is_dir() else []


def partition_files(root: Path, carrier: str, days: Iterable[date], bucket: int | None = None) -> list[str]:
    """Parquet files of a carrier's partitions for the given days (and one bucket, or all)."""
    pattern = "bucket=*/*.parquet" if bucket is None else f"bucket={bucket}/*.parquet"
    out: list[str] = []
    for day in days:
        folder = root / f"carrier={carrier}" / f"day={day.isoformat()}"
        if folder.is_dir():
            out.extend(str(p) for p in sorted(folder.glob(pattern)))
    return out


def plan_passes(settings: Settings, run_date: date, lake: Path) -> list[BucketPass]:
    """Every (carrier, bucket) with at least one file in the window, in a stable order."""
    buckets = lake_layout(lake, settings, create=False).buckets
    w = settings.run.windows
    window = window_days(run_date, w.feature_days)
    history = window_days(window[0] - timedelta(days=1), w.history_days)
    passes: list[BucketPass] = []
    for carrier in lake_carriers(lake):
        for k in range(buckets):
            files = partition_files(cdr_root(lake), carrier, window, k)
            if files:
                passes.append(BucketPass(
                    carrier, k, files,
                    partition_files(cdr_root(lake), carrier, history, k),
                    partition_files(inbound_root(lake), carrier, window, k),
                ))
    return passes


def _pass_params(settings: Settings, run_date: date, run_id: str) -> dict[str, Any]:
    c = settings.run.cdr
    return {
        "run_date": run_date,
        "run_id": run_id,
        "window_days": settings.run.windows.feature_days,
        "short_call_seconds": c.short_call_seconds,
        "night_start": c.night_start_hour,
        "night_end": c.night_end_hour,
        "burst_us": c.burst_window_minutes * 60 * 1_000_000,
        "short_gap_us": c.short_gap_seconds * 1_000_000,
        "buckets": c.buckets,
    }


@dataclass(frozen=True)
class FeaturePlan:
    """Everything a bucket pass needs, as files and plain values: it travels to Dask workers as it is."""

    run_date: date
    run_id: str
    work: str                      # this stage's part files; under the lake, so shared with workers
    params: dict[str, Any]
    passes: list[BucketPass]
    duckdb: DuckDBSettings         # limits of one pass's own DuckDB
    empty: dict[str, str]          # zero-row stand-ins for empty file lists


def work_folder(lake: Path, run_date: date) -> Path:
    return Path(lake) / "_work" / f"features-{run_date.isoformat()}"


def _empty_parquet(folder: Path, name: str, schema: dict[str, pl.DataType]) -> str:
    """A zero-row file standing in for an empty file list (DuckDB's read_parquet rejects an empty list)."""
    path = folder / f"{name}.parquet"
    pl.DataFrame(schema=schema).write_parquet(path)
    return str(path)


def plan_feature_stage(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, lake: Path, run_id: str,
    pass_duckdb: DuckDBSettings | None = None,
) -> FeaturePlan:
    """List the (carrier, bucket) passes and write their one warehouse input, the ported numbers.

    A killed earlier attempt may have left parts behind: the work folder is emptied first.
    """
    lake = Path(lake)
    work = work_folder(lake, run_date)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    ported = work / "ported.parquet"
    write_model_parquet(con, "features/ported_on_run_date", ported, {"run_date": run_date})
    empty = {
        "history": _empty_parquet(work, "empty-history", {"a_number": pl.Int64, "b_number": pl.Int64}),
        "inbound": _empty_parquet(work, "empty-inbound", {"b_number": pl.Int64, "event_type": pl.String}),
    }
    return FeaturePlan(
        run_date=run_date,
        run_id=run_id,
        work=str(work),
        params={**_pass_params(settings, run_date, run_id), "ported_file": str(ported)},
        passes=plan_passes(settings, run_date, lake) if cdr_root(lake).is_dir() else [],
        duckdb=pass_duckdb or settings.run.duckdb,
        empty=empty,
    )


def compute_bucket_part(plan: FeaturePlan, p: BucketPass) -> str:
    """One (carrier, bucket)'s subscriber features into a part file, in a DuckDB of its own.

    The same function runs in-process and on a Dask worker, which is what makes the results identical.
    """
    target = Path(plan.work) / f"part-{p.carrier}-{p.bucket:05d}.parquet"
    with closing(connect(":memory:", plan.duckdb)) as con:
        write_model_parquet(con, "features/cdr_bucket_features", target, {
            **plan.params,
            "carrier": p.carrier,
            "bucket": p.bucket,
            "files": p.files,
            "history_files": p.history_files or [plan.empty["history"]],
            "inbound_files": p.inbound_files or [plan.empty["inbound"]],
        })
    kill_point("features.pass")
    return str(target)


def compute_bucket_parts(plan: FeaturePlan) -> list[str]:
    """Every pass, one after the other, in this process (the default, single-machine runner)."""
    return [compute_bucket_part(plan, p) for p in plan.passes]


def load_feature_parts(con: duckdb.DuckDBPyConnection, plan: FeaturePlan, parts: list[str]) -> FeatureStats:
    """Replace ``run_date``'s rows of ``cdr_subscriber_features`` with the parts, all or nothing.

    Needs the schema (sql/schema). The work folder is removed once the rows are committed.
    """
    stats = FeatureStats(plan.run_date, plan.params["window_days"])
    stats.passes = len(parts)
    stats.files_read = sum(len(p.files) + len(p.history_files) + len(p.inbound_files) for p in plan.passes)
    with transaction(con):
        run_model(con, "features/cdr_clear_run_date", {"run_date": plan.run_date})
        if parts:
            run_model(con, "features/cdr_load_parts", {"parts": sorted(parts)})
        run_model(con, "features/cdr_imei_sharing", {"run_date": plan.run_date})
        counts = query_model(con, "features/cdr_feature_counts", {"run_date": plan.run_date})
        kill_point("features.insert")
    shutil.rmtree(plan.work, ignore_errors=True)
    stats.subscribers = dict(zip(counts["carrier"].to_list(), counts["subscribers"].to_list()))
    stats.shared_imei_subscribers = int(counts["shared_imei"].sum()) if counts.height else 0
    return stats


def compute_features(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, lake: Path, run_id: str) -> FeatureStats:
    """The whole feature stage in this process: plan, every bucket pass, load (see the flow for Dask)."""
    started = time.perf_counter()
    plan = plan_feature_stage(con, settings, run_date, lake, run_id)
    stats = load_feature_parts(con, plan, compute_bucket_parts(plan))
    stats.seconds = time.perf_counter() - started
    return stats


# --------------------------------------------------------------------------------------------- complaints


@dataclass
class ComplaintStats:
    run_date: date
    complaints: int = 0
    reported_numbers: int = 0
    contacts: int = 0
    corroborated: int = 0
    uncorroborated: int = 0
    unchecked: int = 0
    spoofing_signals: int = 0
    hotspots: int = 0
    seconds: float = 0.0


def _days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=d) for d in range((last - first).days + 1)]


def complaint_params(settings: Settings, run_date: date, run_id: str) -> dict[str, Any]:
    """Every parameter the complaint-join models take (a model binds only the ones it names)."""
    w, c, h = settings.run.windows, settings.run.cdr, settings.run.hotspots
    return {
        "run_date": run_date,
        "run_id": run_id,
        "window_days": w.feature_days,
        "baseline_days": w.hotspot_baseline_days,
        "tz": settings.run.timezone,
        "corroboration_minutes": c.corroboration_minutes,
        "lookback_hours": c.corroboration_lookback_hours,
        "buckets": c.buckets,
        "min_reports": h.min_reports,
        "min_ratio": h.min_ratio,
        "watched": sorted(f"{k.slug}/{p}" for k in settings.carriers for p in k.watched_prefixes),
    }


def compute_complaint_features(
    con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, lake: Path, run_id: str
) -> ComplaintStats:
    """Corroboration, per-number complaint features and prefix hot-spots for ``run_date`` (one transaction).

    Runs, in order: features/complaint_carrier, features/complaint_window, features/complaint_cdr_days,
    features/reported_contacts_clear + features/reported_contacts per (carrier, bucket) holding reported
    numbers, features/corroboration, features/subscriber_complaints, features/prefix_hotspots.
    Needs ``stg_complaints``; the CDR lake may be empty (then nothing is checkable).
    """
    started = time.perf_counter()
    lake = Path(lake)
    params = complaint_params(settings, run_date, run_id)
    stats = ComplaintStats(run_date)
    w = settings.run.windows
    earliest = run_date - timedelta(days=w.feature_days - 1 + w.history_days)
    with transaction(con):
        run_model(con, "features/complaint_carrier", params)
        run_model(con, "features/complaint_window", params)
        span = query_model(con, "features/complaint_cdr_days", params).row(0, named=True)
        run_model(con, "features/reported_contacts_clear", params)
        lake_days: list[str] = []
        if span["first_day"] is not None and cdr_root(lake).is_dir():
            lake_layout(lake, settings, create=False)  # reported numbers are looked up by bucket
            first = max(min(span["first_day"], run_date - timedelta(days=w.feature_days - 1)), earliest)
            days = _days_between(first, max(span["last_day"], run_date))
            for carrier in lake_carriers(lake):
                lake_days += [f"{carrier}/{d.isoformat()}" for d in days
                              if (cdr_root(lake) / f"carrier={carrier}" / f"day={d.isoformat()}").is_dir()]
                for k in span["buckets"] or []:
                    files = partition_files(cdr_root(lake), carrier, days, k)
                    if files:
                        run_model(con, "features/reported_contacts", {**params, "carrier": carrier, "files": files})
        run_model(con, "features/corroboration", {**params, "lake_days": lake_days})
        run_model(con, "features/subscriber_complaints", params)
        run_model(con, "features/prefix_hotspots", params)
        summary = query_model(con, "features/complaint_summary", params).row(0, named=True)
    for key, value in summary.items():
        setattr(stats, key, int(value or 0))
    stats.seconds = time.perf_counter() - started
    return stats
