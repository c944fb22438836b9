"""Prefect artifacts for a finished daily run: what an operator checks in the Prefect UI each morning.

Counts and file locations only — never complaint text or subscriber numbers, because artifacts live in
the Prefect database, outside the warehouse's access controls.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from transforms.config import Settings
from transforms.warehouse import connect, query_model

if TYPE_CHECKING:
    from flows.daily import RunSummary

CANDIDATES_KEY = "subflag-daily-candidates"
SUMMARY_KEY = "subflag-daily-summary"


def _location(path: Path, base: Path) -> str:
    try:
        shown = path.relative_to(base)
    except ValueError:
        shown = path
    return str(shown).replace("`", "'")


def _count_table(title: str, first: str, counts: dict[str, Any]) -> list[str]:
    lines = [f"## {title}", "", f"| {first} | count |", "|---|---:|"]
    lines += [f"| {key} | {value:,} |" for key, value in counts.items()] or ["| (none) | 0 |"]
    return [*lines, ""]


def render_run_markdown(summary: RunSummary) -> str:
    """The run's counts and output locations, in the order an operator reads them."""
    files = {"new": summary.files_new, "already landed": summary.files_known, "failed": summary.files_failed}
    lines = [f"# subflag daily run `{summary.run_id}` for {summary.run_date.isoformat()}", ""]
    lines += _count_table("Files", "inbox files", files)
    lines += _count_table("Rows", "stage", summary.rows)
    lines += _count_table("Rule hits", "rule", summary.rule_hits)
    lines += _count_table("Candidates exported", "carrier", summary.candidates)
    lines += [f"Spoofing alerts: **{summary.spoofing_alerts:,}**", "", "## Outputs", ""]
    lines += [f"- output folder: `{_location(summary.out_dir, Path())}`",
              f"- warehouse: `{_location(summary.warehouse, Path())}`"]
    lines += [f"- `{_location(Path(p), summary.out_dir)}`" for p in summary.outputs]
    return "\n".join(lines) + "\n"


def candidates_by_carrier_action(summary: RunSummary, settings: Settings) -> list[dict[str, Any]]:
    with connect(summary.warehouse, settings.run.duckdb) as con:
        return query_model(con, "report/candidates_by_carrier_action", {"run_date": summary.run_date}).to_dicts()


@task(cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def publish_run_artifacts(summary: RunSummary, settings: Settings) -> list[UUID]:
    """A table of candidates per carrier and action (monitor included) and a markdown run summary."""
    day = summary.run_date.isoformat()
    table = create_table_artifact(
        candidates_by_carrier_action(summary, settings),
        key=CANDIDATES_KEY,
        description=f"Candidates per carrier and action for {day} (run {summary.run_id})",
    )
    markdown = create_markdown_artifact(
        render_run_markdown(summary),
        key=SUMMARY_KEY,
        description=f"Daily run summary for {day} (run {summary.run_id})",
    )
    return [table, markdown]
