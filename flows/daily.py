"""The daily flow: a table of contents, one task per stage. All logic lives in ``transforms/`` and ``sql/``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.artifacts import publish_run_artifacts
from flows.runners import pass_limits, runs_on_dask
from transforms import package_data, runs
from transforms.faults import kill_point
from transforms.config import Settings, load_config
from transforms.export import export_candidates, export_run_wide
from transforms.features import (
    BucketPass, FeaturePlan, compute_bucket_part, compute_bucket_parts, compute_complaint_features, load_feature_parts,
    plan_feature_stage,
)
from transforms.flagging import check_rules_at_startup, flag_run_date
from transforms.ingest import Delivery, allowlist_hashes, IngestContext, IngestPlan, land_delivery, ledger_mismatches, plan_ingest
from transforms.landing import LANDERS
from transforms.lineage import derive_run_id
from transforms.logs import timed_stage
from transforms.numbers import NumberingTables
from transforms.report import write_report
from transforms.snapshot import publish_snapshot
from transforms.registry import run_subscriber_checks
from transforms.warehouse import connect, run_folder, transaction


@dataclass
class RunSummary:
    run_id: str
    run_date: date
    out_dir: Path
    warehouse: Path
    files_new: int = 0
    files_known: int = 0
    files_failed: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    rule_hits: dict[str, int] = field(default_factory=dict)
    candidates: dict[str, int] = field(default_factory=dict)
    spoofing_alerts: int = 0
    outputs: list[Path] = field(default_factory=list)


@task(cache_policy=NO_CACHE)
def prepare_warehouse(warehouse: Path, settings: Settings) -> None:
    """Schema and views (re-runnable), then the rules checked against the features that exist."""
    with connect(warehouse, settings.run.duckdb) as con:
        run_folder(con, "schema")
        run_folder(con, "views")
        check_rules_at_startup(con, settings)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def ingest(inbox: Path, warehouse: Path, settings: Settings, kinds: frozenset[str] | None = None) -> IngestPlan:
    """Discover inbox files by content hash and decide which are new."""
    with connect(warehouse, settings.run.duckdb) as con:
        return plan_ingest(con, inbox, settings.carrier_slugs(), kinds)


@task(cache_policy=NO_CACHE)
def normalise_and_load(new: list[Delivery], warehouse: Path, lake: Path, settings: Settings, run_id: str) -> dict[str, int]:
    """Parse, normalise and load each new file in its own transaction; the ledger must balance."""
    ctx = IngestContext(settings, NumberingTables.from_settings(settings), run_id, lake)
    totals: dict[str, int] = {"files_loaded": 0, "files_failed": 0, "rows_read": 0, "rows_rejected": 0}
    with connect(warehouse, settings.run.duckdb) as con:
        for d in new:
            landed = land_delivery(con, d, ctx, LANDERS)
            totals["files_loaded" if landed.status == "loaded" else "files_failed"] += 1
            totals["rows_read"] += landed.rows_read
            totals["rows_rejected"] += landed.rows_rejected
            for k, v in landed.extra.items():
                totals[k] = totals.get(k, 0) + v
        bad = ledger_mismatches(con)
    if bad.height:
        raise RuntimeError(f"ledger does not balance (read != accepted + rejected) for: {bad.to_dicts()}")
    return totals


@task(cache_policy=NO_CACHE)
def plan_features(warehouse: Path, lake: Path, settings: Settings, run_date: date, run_id: str, scale_out: bool) -> FeaturePlan:
    """The bucket passes of the feature stage, and their one warehouse input written as a file."""
    with connect(warehouse, settings.run.duckdb) as con:
        return plan_feature_stage(con, settings, run_date, lake, run_id,
                                  pass_duckdb=pass_limits(settings) if scale_out else None)


@task(cache_policy=NO_CACHE, retries=1)
def bucket_features(plan: FeaturePlan, bucket_pass: BucketPass) -> str:
    """One (carrier, bucket) pass: the unit a Dask worker runs."""
    return compute_bucket_part(plan, bucket_pass)


@task(cache_policy=NO_CACHE)
def bucket_features_in_process(plan: FeaturePlan) -> list[str]:
    return compute_bucket_parts(plan)


@task(cache_policy=NO_CACHE)
def load_features(warehouse: Path, lake: Path, settings: Settings, plan: FeaturePlan, parts: list[str]) -> dict[str, int]:
    """The parts into the warehouse in one transaction, then the complaint joins (corroboration, hot-spots)."""
    with connect(warehouse, settings.run.duckdb) as con:
        stats = load_feature_parts(con, plan, parts)
        complaint = compute_complaint_features(con, settings, plan.run_date, lake, plan.run_id)
    return {
        "feature_rows": sum(stats.subscribers.values()),
        "bucket_passes": stats.passes,
        "complaints_in_window": complaint.complaints,
        "corroborated": complaint.corroborated,
        "spoofing_signals": complaint.spoofing_signals,
        "hotspots": complaint.hotspots,
    }


def features(warehouse: Path, lake: Path, settings: Settings, run_date: date, run_id: str) -> dict[str, int]:
    """CDR features bucket by bucket — on the flow's Dask cluster when it has one — then the complaint joins."""
    scale_out = runs_on_dask()
    plan = plan_features(warehouse, lake, settings, run_date, run_id, scale_out)
    if scale_out:
        parts = [f.result() for f in [bucket_features.submit(plan, p) for p in plan.passes]]
    else:
        parts = bucket_features_in_process(plan)
    return load_features(warehouse, lake, settings, plan, parts)


@task(cache_policy=NO_CACHE)
def check_subscribers(warehouse: Path, settings: Settings, run_date: date, run_id: str) -> dict[str, int]:
    """Decree 49/2017 subscriber-information checks of the active regulation profile."""
    with connect(warehouse, settings.run.duckdb) as con, transaction(con):
        return run_subscriber_checks(con, settings, run_date, run_id)


@task(cache_policy=NO_CACHE)
def flag(warehouse: Path, settings: Settings, run_date: date, run_id: str, allowlist: Path | None) -> dict[str, int]:
    with connect(warehouse, settings.run.duckdb) as con, transaction(con):
        return flag_run_date(con, settings, run_date, run_id, allowlist=allowlist)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def export(warehouse: Path, out: Path, settings: Settings, run_date: date, run_id: str) -> tuple[dict[str, int], int, list[Path]]:
    """Per-carrier candidate lists, then the run-wide alert files."""
    with connect(warehouse, settings.run.duckdb) as con:
        result = export_candidates(con, settings, run_date, out)
        run_wide = export_run_wide(con, settings, run_date, out, run_id)
    alerts = next(n for p, n in run_wide.items() if p.name == "spoofing_alerts.csv")
    return result.candidates_per_carrier, alerts, [*result.files, *run_wide]


@task(cache_policy=NO_CACHE)
def package_requests(
    warehouse: Path, lake: Path, out: Path, settings: Settings, run_date: date, run_id: str,
    generated_at: datetime | None = None,
) -> list[Path]:
    """Signed information packages for this run's authority requests, one per holding carrier."""
    logger = get_run_logger()
    with connect(warehouse, settings.run.duckdb) as con:
        result = package_data.package_requests(con, settings, run_date, run_id, out, lake, generated_at=generated_at)
    if result.key_created:
        logger.warning("%s", result.key_message)
    for failure in result.failures:
        logger.error("package not built: %s", failure)
    if result.not_held:
        logger.warning("no configured carrier holds any number of request(s) %s", result.not_held)
    return result.paths


@task(cache_policy=NO_CACHE)
def report(warehouse: Path, out: Path, settings: Settings, run_date: date, run_id: str) -> Path:
    with connect(warehouse, settings.run.duckdb) as con:
        return write_report(con, settings, run_date, run_id, out)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def publish_read_snapshot(warehouse: Path, settings: Settings) -> Path:
    """Analysts read this copy: DuckDB refuses other processes while the flow holds the warehouse."""
    return publish_snapshot(warehouse, settings.run.duckdb, int(settings.run.output.file_mode, 8))


@flow(name="subflag-daily", log_prints=False)
def daily_run(
    run_date: date | None = None,
    inbox: Path = Path("data/inbox"),
    warehouse: Path = Path("data/warehouse.duckdb"),
    lake: Path = Path("data/lake"),
    out: Path = Path("data/out"),
    config_dir: Path | None = None,
    allowlist: Path | None = None,
) -> RunSummary:
    """ingest → normalise → load → features → flag → export → report, for one local run date.

    Without ``run_date`` (the scheduled deployment) the run processes the previous local day.
    """
    logger = get_run_logger()
    settings = load_config(config_dir)
    run_date = run_date or datetime.now(ZoneInfo(settings.run.timezone)).date() - timedelta(days=1)
    prepare_warehouse(warehouse, settings)
    with timed_stage(logger, "ingest") as counted:
        plan = ingest(inbox, warehouse, settings)
        counted.update(files_new=len(plan.new), files_known=plan.known, inbox_problems=len(plan.problems))
    allowlist = allowlist or settings.allowlist_file()
    inputs = plan.input_hashes | allowlist_hashes(allowlist)
    run_id = derive_run_id(run_date, inputs, settings.digest)
    for problem in plan.problems:
        logger.warning("inbox: %s", problem.message)
    execution = runs.start(warehouse, settings, run_id, "daily", run_date, inputs)
    summary = RunSummary(run_id=run_id, run_date=run_date, out_dir=out / run_date.isoformat(), warehouse=warehouse)
    try:
        summary.files_new, summary.files_known = len(plan.new), plan.known
        with timed_stage(logger, "load") as counted:
            summary.rows = normalise_and_load(plan.new, warehouse, lake, settings, run_id)
            counted.update(summary.rows)
        summary.files_failed = summary.rows.get("files_failed", 0)
        kill_point("daily.loaded")  # every new file landed and committed; no feature computed yet
        with timed_stage(logger, "features") as counted:
            counted.update(features(warehouse, lake, settings, run_date, run_id))
        summary.rows.update(counted)
        with timed_stage(logger, "subscriber_checks") as counted:
            counted.update(check_subscribers(warehouse, settings, run_date, run_id))
        summary.rows.update(counted)
        with timed_stage(logger, "flag") as counted:
            summary.rule_hits = flag(warehouse, settings, run_date, run_id, allowlist)
            counted.update(rule_hits=summary.rule_hits)
        with timed_stage(logger, "export") as counted:
            summary.candidates, summary.spoofing_alerts, files = export(warehouse, out, settings, run_date, run_id)
            counted.update(candidates=summary.candidates, spoofing_alerts=summary.spoofing_alerts, files=len(files))
        with timed_stage(logger, "packages") as counted:
            packages = package_requests(warehouse, lake, out, settings, run_date, run_id)
            counted.update(packages=len(packages))
        with timed_stage(logger, "report") as counted:
            summary.outputs = [*files, *packages, report(warehouse, out, settings, run_date, run_id)]
            counted.update(outputs=len(summary.outputs))
    except BaseException as exc:
        runs.finish(warehouse, settings, execution, "failed", summary, error=repr(exc))
        raise
    runs.finish(warehouse, settings, execution, "completed", summary)
    with timed_stage(logger, "snapshot"):
        publish_read_snapshot(warehouse, settings)
    publish_run_artifacts(summary, settings)
    logger.info("run %s for %s: %d new files, candidates %s", run_id, run_date, len(plan.new), summary.candidates)
    return summary
