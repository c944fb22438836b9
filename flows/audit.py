"""The weekly subscriber-information audit (Decree 49/2017 checks on the carriers' registries).

Subscriber registries change slowly and the checks read every subscriber, so once a week is enough;
the daily run only needs the registry for flagging. The checks themselves live in
``transforms.registry``; this flow only gives them a warehouse connection, a run id and lineage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.daily import prepare_warehouse
from transforms import runs
from transforms.config import Settings, load_config
from transforms.ingest import known_hashes
from transforms.lineage import derive_run_id
from transforms.warehouse import connect, transaction


@dataclass
class AuditSummary:
    run_id: str
    run_date: date
    warehouse: Path
    checks: dict[str, int] = field(default_factory=dict)


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def landed_inputs(warehouse: Path, settings: Settings) -> frozenset[str]:
    """The audit reads what is landed, so its lineage is every file in the ledger."""
    with connect(warehouse, settings.run.duckdb) as con:
        return frozenset(known_hashes(con))


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[5, 30])
def check_subscribers(warehouse: Path, settings: Settings, run_date: date, run_id: str) -> dict[str, int]:
    """Hits per check id. One transaction, and the checks replace the date's results, so a retry is safe."""
    from transforms.registry import run_subscriber_checks

    with connect(warehouse, settings.run.duckdb) as con, transaction(con):
        return run_subscriber_checks(con, settings, run_date, run_id)


@flow(name="subflag-audit", log_prints=False)
def audit_run(
    run_date: date | None = None,
    warehouse: Path = Path("data/warehouse.duckdb"),
    config_dir: Path | None = None,
) -> AuditSummary:
    """Check the subscriber registries as of ``run_date`` (default: the previous local day)."""
    logger = get_run_logger()
    settings = load_config(config_dir)
    run_date = run_date or datetime.now(ZoneInfo(settings.run.timezone)).date() - timedelta(days=1)
    prepare_warehouse(warehouse, settings)
    inputs = landed_inputs(warehouse, settings)
    run_id = derive_run_id(run_date, inputs, settings.digest)
    execution = runs.start(warehouse, settings, run_id, "audit", run_date, inputs)
    summary = AuditSummary(run_id=run_id, run_date=run_date, warehouse=warehouse)
    try:
        summary.checks = check_subscribers(warehouse, settings, run_date, run_id)
    except BaseException as exc:
        runs.finish(warehouse, settings, execution, "failed", summary, error=repr(exc))
        raise
    runs.finish(warehouse, settings, execution, "completed", summary)
    logger.info("audit %s for %s: hits per check %s", run_id, run_date, summary.checks)
    return summary
