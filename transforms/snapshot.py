"""The analysts' read path: a read-only copy of the warehouse, republished after each successful run.

DuckDB lets one process write a file and then refuses every other process, read-only ones included, so
analysts cannot open the live warehouse while a flow runs. They open ``<stem>.read.duckdb`` beside it
instead. It is built under a temporary name and renamed over the previous one: an analyst who has the old
snapshot open keeps reading it undisturbed, and nobody ever sees a half-copied file.
"""

from __future__ import annotations

from pathlib import Path

from transforms.config import DuckDBSettings
from transforms.faults import kill_point
from transforms.warehouse import connect, run_model
from transforms.writers import atomic_path

SNAPSHOT_SUFFIX = ".read.duckdb"


def snapshot_path(warehouse: Path) -> Path:
    """``data/warehouse.duckdb`` → ``data/warehouse.read.duckdb``."""
    return warehouse.with_name(warehouse.stem + SNAPSHOT_SUFFIX)


def publish_snapshot(warehouse: Path, settings: DuckDBSettings | None = None, file_mode: int = 0o600) -> Path:
    """Copy the warehouse to its snapshot and rename it into place; the snapshot file is not writable.

    Needs the warehouse free of other writers (DuckDB's own lock): run it where the flow's stages have
    closed their connections.
    """
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse} to snapshot")
    target = snapshot_path(warehouse)
    with atomic_path(target, file_mode & ~0o222) as tmp:
        tmp.unlink()  # DuckDB creates the database file itself
        try:
            with connect(":memory:", settings) as con:
                run_model(con, "snapshot/publish", literals={"source": warehouse, "target": tmp})
        finally:
            Path(f"{tmp}.wal").unlink(missing_ok=True)
        kill_point("snapshot.publish")
    return target
