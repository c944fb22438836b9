"""The hourly fast lane: land citizens' complaints and authorities' requests between daily runs.

Requests carry legal deadlines counted in hours, and complaints feed the next daily run anyway, so
landing them early costs nothing and shortens the path to an answer. CDRs and subscriber files stay
with the daily run: they are large and only matter at flagging time. The stages are the daily flow's
own tasks, limited to the fast-lane inbox folders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from prefect import flow, get_run_logger

from flows.daily import ingest, normalise_and_load, package_requests, prepare_warehouse
from transforms import runs
from transforms.config import load_config
from transforms.lineage import derive_run_id

FAST_LANE_KINDS: frozenset[str] = frozenset({"reports_5656", "complaints", "requests"})


@dataclass
class IntakeSummary:
    run_id: str
    run_date: date
    warehouse: Path
    files_new: int = 0
    files_known: int = 0
    files_failed: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    outputs: list[Path] = field(default_factory=list)


@flow(name="subflag-intake", log_prints=False)
def intake_run(
    inbox: Path = Path("data/inbox"),
    warehouse: Path = Path("data/warehouse.duckdb"),
    lake: Path = Path("data/lake"),
    config_dir: Path | None = None,
    out: Path | None = None,
) -> IntakeSummary:
    """Land new complaint, 5656 and request files and answer new requests; the run date is today, local time.

    Packages built here say when they were generated (not the end of the day): a request due this
    afternoon and answered this morning must not read as late.
    """
    logger = get_run_logger()
    settings = load_config(config_dir)
    now = datetime.now(ZoneInfo(settings.run.timezone)).replace(microsecond=0)
    today = now.date()
    prepare_warehouse(warehouse, settings)
    plan = ingest(inbox, warehouse, settings, kinds=FAST_LANE_KINDS)
    for problem in plan.problems:
        logger.warning("inbox: %s", problem.message)
    run_id = derive_run_id(today, plan.input_hashes, settings.digest)
    execution = runs.start(warehouse, settings, run_id, "intake", today, plan.input_hashes)
    summary = IntakeSummary(run_id=run_id, run_date=today, warehouse=warehouse,
                            files_new=len(plan.new), files_known=plan.known)
    try:
        summary.rows = normalise_and_load(plan.new, warehouse, lake, settings, run_id)
        summary.files_failed = summary.rows.get("files_failed", 0)
        summary.outputs = package_requests(warehouse, lake, out or settings.run.paths.out, settings, today, run_id,
                                           generated_at=now)
    except BaseException as exc:
        runs.finish(warehouse, settings, execution, "failed", summary, error=repr(exc))
        raise
    runs.finish(warehouse, settings, execution, "completed", summary)
    logger.info("intake %s: %d new files, %d failed", run_id, summary.files_new, summary.files_failed)
    return summary
