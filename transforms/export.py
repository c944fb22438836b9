"""Export stage: per-carrier suspension candidate lists and run-wide alert files, per DESIGN.md §8."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from transforms.config import Settings
from transforms.faults import kill_point
from transforms.warehouse import query_model
from transforms.writers import ensure_private_dir, write_csv, write_parquet, write_xlsx

CANDIDATE_STEM = "suspension_candidates"


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    candidates_per_carrier: dict[str, int] = field(default_factory=dict)
    spoofing_alerts: int = 0


def _modes(settings: Settings) -> tuple[int, int]:
    return int(settings.run.output.dir_mode, 8), int(settings.run.output.file_mode, 8)


def run_folder(out: Path, run_date: date, settings: Settings) -> Path:
    dir_mode, _ = _modes(settings)
    ensure_private_dir(out, dir_mode)
    return ensure_private_dir(out / run_date.isoformat(), dir_mode)


def export_candidates(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, out: Path) -> ExportResult:
    """Write CSV (BOM), XLSX and Parquet per carrier that has exportable candidates."""
    dir_mode, file_mode = _modes(settings)
    base = run_folder(out, run_date, settings)
    result = ExportResult()
    known = set(settings.carrier_slugs())
    carriers = query_model(con, "flags/export_carriers", {"run_date": run_date})["carrier"].to_list()
    for carrier in carriers:
        if carrier not in known:
            raise ValueError(f"candidate carrier {carrier!r} is not in config/carriers.toml")
        rows = query_model(con, "flags/export_candidates", {"run_date": run_date, "carrier": carrier})
        folder = ensure_private_dir(base / carrier, dir_mode)
        result.files += [
            write_csv(rows, folder / f"{CANDIDATE_STEM}.csv", file_mode=file_mode),
            write_xlsx(rows, folder / f"{CANDIDATE_STEM}.xlsx", file_mode=file_mode),
            write_parquet(rows, folder / f"{CANDIDATE_STEM}.parquet", file_mode=file_mode),
        ]
        result.candidates_per_carrier[carrier] = rows.height
        kill_point("export.between_carriers")
    return result


RUN_WIDE_REPORTS = {
    "spoofing_alerts.csv": "flags/spoofing_alerts",
    "brandname_report.csv": "flags/brandname_report",
    "prefix_hotspots.csv": "features/prefix_hotspots_export",
}


def export_run_wide(con: duckdb.DuckDBPyConnection, settings: Settings, run_date: date, out: Path, run_id: str) -> dict[Path, int]:
    """Files for the whole run (not per carrier): spoofing alerts, brandname sources, prefix hot-spots."""
    _, file_mode = _modes(settings)
    params = {"run_date": run_date, "tz": settings.run.timezone, "window_days": settings.run.windows.feature_days}
    written: dict[Path, int] = {}
    for name, model in RUN_WIDE_REPORTS.items():
        rows = query_model(con, model, params)
        if "run_id" not in rows.columns:
            rows = rows.with_columns(pl.lit(run_id).alias("run_id"))
        written[write_csv(rows, run_folder(out, run_date, settings) / name, file_mode=file_mode)] = rows.height
        kill_point("export.run_wide")
    return written
