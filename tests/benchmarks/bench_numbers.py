"""Numbering core throughput: vectorised normaliser vs phonenumbers row by row, in one run.

Input is CDR-side text as switches write it: mostly bare digit forms (84…, 0…, some +84…) of mobiles from
the configured prefixes, with landlines, international numbers, short codes and 1800/1900 numbers mixed in,
and a stated share of messy forms (separators, brackets, full-width digits). The all-messy rate is reported
too, since complaint-side input is that kind.

    .venv/bin/python -m tests.benchmarks --only numbers [--n 5000000] [--messy 0.02] [--oracle-sample 20000]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import polars as pl

from transforms.config import load_config
from transforms.numbers import NumberingTables, normalise_numbers, oracle

# Share of each kind in the benchmark input (CDR side: overwhelmingly mobiles).
MIX = {"mobile": 0.90, "landline": 0.05, "international": 0.02, "short": 0.015, "service": 0.01, "legacy": 0.005}
# How VN numbers are written in the input.
FORMS = {"84": 0.50, "0": 0.30, "+84": 0.15, "": 0.03, "0084": 0.02}
FOREIGN = [("1", 10), ("44", 10), ("65", 8), ("86", 11), ("66", 9), ("81", 10), ("33", 9), ("61", 9)]
SHORT = ["113", "114", "115", "5656", "1414", "9029", "8088", "1080", "156"]
FULL_WIDTH = [chr(0xFF10 + d) for d in range(10)]


def _choice(rng: np.random.Generator, n: int, shares: dict[str, float]) -> np.ndarray:
    p = np.array(list(shares.values()))
    return rng.choice(len(shares), size=n, p=p / p.sum())


def cdr_numbers(n: int, messy_share: float, seed: int = 20240305) -> pl.Series:
    """``n`` CDR-side number strings, built vectorised; ``messy_share`` of them with separators etc."""
    settings = load_config()
    rng = np.random.default_rng(seed)
    kind = _choice(rng, n, MIX)
    prefixes = np.array([int(p[1:]) for c in settings.carriers for p in c.prefixes])
    areas = settings.numbering.landline.area_codes
    area_nsn = np.array([int(a) * 10 ** (10 - len(a)) for a in areas])
    legacy = np.array([int(old[1:]) for old in settings.numbering.legacy])
    nsn = np.where(
        kind == 1,
        area_nsn[rng.integers(0, len(area_nsn), n)] + rng.integers(0, 10**7, n),
        np.where(
            kind == 5,
            legacy[rng.integers(0, len(legacy), n)] * 10**7 + rng.integers(0, 10**7, n),
            prefixes[rng.integers(0, len(prefixes), n)] * 10**7 + rng.integers(0, 10**7, n),
        ),
    )
    cc_pick = rng.integers(0, len(FOREIGN), n)
    foreign_len = np.array([w for _, w in FOREIGN])[cc_pick]
    subscriber = rng.integers(2 * 10 ** (foreign_len - 1), 10**foreign_len)
    foreign = np.array([int(c) for c, _ in FOREIGN])[cc_pick] * 10**foreign_len + subscriber
    service = np.where(rng.random(n) < 0.5, 1800, 1900) * np.where(rng.random(n) < 0.5, 10**4, 10**6)
    service = service + rng.integers(0, 10**4, n)
    form = _choice(rng, n, FORMS)
    frame = pl.DataFrame(
        {
            "kind": kind,
            "nsn": nsn,
            "foreign": foreign,
            "service": service,
            "short": np.array(SHORT)[rng.integers(0, len(SHORT), n)],
            "form": form,
            "intl_plus": rng.random(n) < 0.7,
            "messy": rng.random(n) < messy_share,
            "messy_style": rng.integers(0, 4, n),
        }
    )
    form_prefix = pl.lit(pl.Series(list(FORMS), dtype=pl.String)).gather(pl.col("form"))
    clean = (
        pl.when(pl.col("kind").is_in([0, 1, 5]))
        .then(pl.concat_str(form_prefix, pl.col("nsn").cast(pl.String)))
        .when(pl.col("kind") == 2)
        .then(pl.when(pl.col("intl_plus")).then(pl.lit("+")).otherwise(pl.lit("00")) + pl.col("foreign").cast(str))
        .when(pl.col("kind") == 3)
        .then(pl.col("short"))
        .otherwise(pl.col("service").cast(pl.String))
    )
    messy = (
        pl.when(pl.col("messy_style") == 0)
        .then(pl.col("raw").str.replace(r"^(\+?\d{3,4})(\d{3})(\d+)$", "$1 $2 $3"))
        .when(pl.col("messy_style") == 1)
        .then(pl.col("raw").str.replace(r"^(\+?\d{3,4})(\d{3})(\d+)$", "$1.$2.$3"))
        .when(pl.col("messy_style") == 2)
        .then(pl.col("raw").str.replace(r"^(\+?\d{2,3})(\d{3})(\d{3})(\d+)$", "($1) $2-$3-$4"))
        .otherwise(pl.col("raw").str.replace_many([str(d) for d in range(10)], FULL_WIDTH))
    )
    return (
        frame.with_columns(raw=clean)
        .select(raw=pl.when(pl.col("messy")).then(messy).otherwise(pl.col("raw")))
        .to_series()
    )


def _best_seconds(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench numbers", description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5_000_000, help="rows in the vectorised run (default 5 M)")
    ap.add_argument("--messy", type=float, default=0.02, help="share of messy forms in the CDR-side input")
    ap.add_argument("--all-messy-n", type=int, default=1_000_000, help="rows in the all-messy run")
    ap.add_argument("--oracle-sample", type=int, default=20_000, help="rows timed through phonenumbers")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    tables = NumberingTables.from_settings(load_config())
    start = time.perf_counter()
    frame = cdr_numbers(args.n, args.messy).to_frame("raw")
    messy_frame = cdr_numbers(args.all_messy_n, 1.0, seed=7).to_frame("raw")
    print(f"input: {args.n:,} CDR-side strings, {args.messy:.1%} of them messy "
          f"(built in {time.perf_counter() - start:.1f} s); polars threads={pl.thread_pool_size()}, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    normalise_numbers(frame.head(100_000), "raw", tables)  # warm-up

    vectorised = _best_seconds(lambda: normalise_numbers(frame, "raw", tables), args.repeats)
    lazy = _best_seconds(lambda: normalise_numbers(frame.lazy(), "raw", tables).collect(), 1)
    all_messy = _best_seconds(lambda: normalise_numbers(messy_frame, "raw", tables), args.repeats)
    sample = frame["raw"].sample(args.oracle_sample, seed=1).to_list()
    start = time.perf_counter()
    for value in sample:
        oracle(value)
    per_row = (time.perf_counter() - start) / len(sample)

    kinds = normalise_numbers(frame, "raw", tables)["raw_kind"].value_counts(sort=True)
    rate, pn_rate = args.n / vectorised, 1 / per_row
    print("kinds: " + ", ".join(f"{k}={c:,}" for k, c in kinds.iter_rows()))
    rows = [
        (f"vectorised, DataFrame (best of {args.repeats})", vectorised, args.n),
        ("vectorised, LazyFrame (1 run)", lazy, args.n),
        (f"vectorised, all-messy input ({args.all_messy_n:,} rows)", all_messy, args.all_messy_n),
        (f"phonenumbers row by row ({len(sample):,} rows)", per_row * len(sample), len(sample)),
    ]
    for label, seconds, count in rows:
        print(f"{label:<50} {seconds * 1000:9.1f} ms  {count / seconds / 1e6:8.3f} M numbers/s")
    print(f"ratio vectorised / phonenumbers per row: {rate / pn_rate:,.0f}x")
    print(f"targets: >= 10 M numbers/s {'met' if rate >= 10e6 else 'NOT met'}; "
          f">= 200x {'met' if rate / pn_rate >= 200 else 'NOT met'}; load average after: {os.getloadavg()[0]:.2f}")
