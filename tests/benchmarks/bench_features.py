"""Feature stage at carrier scale: subflag vs the bare DuckDB group-by floor vs pandas, on the same files.

    .venv/bin/python -m tests.benchmarks --only features [--rows 10M,50M,250M] [--keep] [--work DIR]

For each size: a synthetic CDR inbox for one carrier-day is generated (vectorised numpy, chunk by chunk,
so 250 M rows never sit in memory at once) with ~0.12 distinct callers per row (>= 30 M at 250 M rows),
ingested through ``transforms.cdr.ingest_cdr_file`` into a bucketed lake, and then, each in a fresh
child process so peak RSS is its own:

  (a) subflag: ``transforms.features.compute_features`` into a DuckDB warehouse file;
  (b) floor:   one bare ``GROUP BY a_number`` (count, exact distinct callees, short-call share) over the
               same lake files, materialised into a table of a warehouse file, same DuckDB settings;
  (c) pandas:  the same features in pandas (if importable; run only up to --pandas-max rows).

The simulator's own generator (``transforms.simulate_cdr``) builds the whole population with identities
in memory, which does not fit at 250 M rows; this module has its own chunked generator with the same
shape (diurnal hours, contact lists, unanswered/short calls, heavy callers, shared handsets).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

RUN_DATE = date(2024, 3, 5)
CARRIER = "viettel"
CALLERS_PER_ROW = 0.125
CHUNK_ROWS = 10_000_000
_VT_PREFIXES = np.array([32, 33, 34, 35, 36, 37, 38, 39, 86, 96, 97, 98], dtype=np.int64)
_HOURS = np.array([1, .5, .3, .2, .3, 1, 3, 6, 8, 9, 9, 8, 7, 7, 8, 8, 8, 9, 10, 10, 9, 7, 4, 2], dtype=float)


def parse_rows(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        part = part.strip().upper()
        mult = 1_000_000 if part.endswith("M") else 1_000 if part.endswith("K") else 1
        out.append(int(float(part.rstrip("MK")) * mult))
    return out


# --------------------------------------------------------------------------------------------- data


def _number(idx: np.ndarray, space: int) -> np.ndarray:
    """Subscriber index -> distinct Viettel national significant number (a bijection on the space)."""
    mixed = (idx * 2_654_435_761 + 97_531) % space  # odd multiplier, space = 12 * 10**7 (coprime)
    return _VT_PREFIXES[mixed // 10**7] * 10**7 + mixed % 10**7


def generate_inbox(rows: int, inbox: Path, seed: int = 20240305) -> dict[str, int]:
    """Write ``rows`` CDR rows for one Viettel day as Parquet files of CHUNK_ROWS rows (vendor layout)."""
    rng = np.random.default_rng(seed)
    callers = max(1_000, int(rows * CALLERS_PER_ROW))
    heavy = max(10, callers // 500)          # call centres, shippers, scammers: 0.2 % of lines
    pool = int(callers * 1.6)                # callees: our callers plus other numbers
    space = len(_VT_PREFIXES) * 10**7
    hours = _HOURS / _HOURS.sum()
    folder = inbox / "cdr" / CARRIER
    folder.mkdir(parents=True, exist_ok=True)
    day0 = np.datetime64(RUN_DATE.isoformat()) - np.timedelta64(7, "h")  # local midnight in UTC
    written = 0
    part = 0
    while written < rows:
        n = min(CHUNK_ROWS, rows - written)
        is_heavy = rng.random(n) < 0.08
        caller = np.where(is_heavy, rng.integers(0, heavy, n), rng.integers(heavy, callers, n))
        contact = rng.random(n) < np.where(is_heavy, 0.05, 0.85)
        callee = np.where(contact, (caller * 7919 + rng.integers(1, 13, n)) % pool, rng.integers(0, pool, n))
        callee = np.where(callee == caller, (callee + 1) % pool, callee)
        hour = rng.choice(24, n, p=hours)
        secs = hour * 3600 + rng.integers(0, 3600, n)
        sms = rng.random(n) < np.where(is_heavy, 0.05, 0.3)
        answered = (rng.random(n) < np.where(is_heavy, 0.5, 0.8)) & ~sms
        short = rng.random(n) < np.where(is_heavy, 0.5, 0.08)
        dur = np.where(answered, np.where(short, rng.integers(1, 10, n),
                                          np.minimum(7200, 10 + rng.lognormal(4.2, 0.9, n).astype(np.int64))), 0)
        # one handset per line; heavy lines rotate through a few shared handsets (SIM farms)
        imei = np.where(is_heavy, 860000000000000 + caller % max(1, heavy // 4),
                        350000000000000 + caller + np.where(rng.random(n) < 0.01, 10**13, 0))
        cell = np.where(is_heavy, caller % 50_000, (caller + rng.integers(0, 3, n)) % 50_000)
        frame = pl.DataFrame({
            "seq": np.arange(written, written + n, dtype=np.int64),
            "a": _number(caller, space), "b": _number(callee, space),
            "start_time": (day0 + secs.astype("timedelta64[s]")).astype("datetime64[us]"),
            "duration_s": dur.astype(np.int32), "sms": sms, "cell": cell.astype(np.int32), "imei": imei,
        }).select(
            pl.concat_str(pl.lit(f"VT{RUN_DATE:%Y%m%d}"), pl.col("seq").cast(pl.String).str.zfill(10)).alias("record_id"),
            pl.concat_str(pl.lit("84"), pl.col("a").cast(pl.String)).alias("a_number"),
            pl.concat_str(pl.lit("84"), pl.col("b").cast(pl.String)).alias("b_number"),
            pl.col("start_time").dt.replace_time_zone("UTC").dt.convert_time_zone("Asia/Ho_Chi_Minh"),
            "duration_s",
            pl.when("sms").then(pl.lit("sms")).otherwise(pl.lit("voice")).alias("event_type"),
            pl.concat_str(pl.lit("452-04-"), pl.col("cell").cast(pl.String).str.zfill(5)).alias("cell_id"),
            pl.col("imei").cast(pl.String).alias("imei"),
        )
        frame.write_parquet(folder / f"cdr_{CARRIER}_{RUN_DATE:%Y%m%d}_{part:03d}.parquet", compression="zstd")
        written += n
        part += 1
    return {"rows": rows, "callers": callers, "files": part}
