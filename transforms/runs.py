"""Lineage of every execution: which inputs and config produced which outputs, and how it ended."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from transforms.config import Settings
from transforms.faults import kill_point
from transforms.lineage import code_version
from transforms.warehouse import connect, run_model, transaction


def file_sha256(path: Path) -> str:
    """Streamed: outputs such as a large candidate Parquet need not fit in memory to be fingerprinted."""
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def start(warehouse: Path, settings: Settings, run_id: str, flow: str, run_date: date, input_hashes: Iterable[str]) -> str:
    """Journal a new execution; earlier executions of the flow and date left 'running' are closed as
    abandoned (a killed process records nothing itself)."""
    execution_id = uuid.uuid4().hex
    with connect(warehouse, settings.run.duckdb) as con, transaction(con):
        run_model(con, "runs/abandon", {"execution_id": execution_id, "flow": flow, "run_date": run_date})
        run_model(
            con,
            "runs/start",
            {
                "execution_id": execution_id,
                "run_id": run_id,
                "flow": flow,
                "run_date": run_date,
                "started_at": datetime.now(UTC),
                "config_sha256": settings.digest,
                "code_version": code_version(),
                "input_sha256": sorted(input_hashes),
            },
        )
    return execution_id


def _counts(summary: Any) -> dict[str, Any]:
    raw = asdict(summary) if is_dataclass(summary) else dict(summary)
    return {k: v for k, v in raw.items() if isinstance(v, (int, dict)) and k != "outputs"}


def finish(warehouse: Path, settings: Settings, execution_id: str, status: str, summary: Any, error: str | None = None) -> None:
    outputs = {str(p): file_sha256(p) for p in getattr(summary, "outputs", []) if Path(p).is_file()}
    kill_point("runs.finish")  # every output written, the journal still says 'running'
    with connect(warehouse, settings.run.duckdb) as con:
        run_model(
            con,
            "runs/finish",
            {
                "execution_id": execution_id,
                "finished_at": datetime.now(UTC),
                "status": status,
                "stage_counts": json.dumps(_counts(summary), sort_keys=True, default=str),
                "outputs": json.dumps(outputs, sort_keys=True),
                "error": error,
            },
        )
