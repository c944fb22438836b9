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


def with_buckets(settings, buckets: int):
    cdr = settings.run.cdr.model_copy(update={"buckets": buckets})
    return settings.model_copy(update={"run": settings.run.model_copy(update={"cdr": cdr})})


def buckets_for(rows: int) -> int:
    """~4 M rows per bucket (a carrier-day at 250 M rows -> 64 passes), never below the config default 8."""
    b = 8
    while rows / b > 4_000_000:
        b *= 2
    return b


def ingest_inbox(inbox: Path, lake: Path, buckets: int) -> dict[str, float]:
    from transforms.cdr import ingest_cdr_file
    from transforms.config import load_config
    from transforms.numbers import NumberingTables
    from transforms.readers import sha256_file

    settings = with_buckets(load_config(), buckets)
    tables = NumberingTables.from_settings(settings)
    started = time.perf_counter()
    accepted = 0
    for path in sorted((inbox / "cdr" / CARRIER).glob("*.parquet")):
        accepted += ingest_cdr_file(path, CARRIER, settings, tables, lake, sha256_file(path)).rows_accepted
    return {"seconds": time.perf_counter() - started, "accepted": accepted}


# --------------------------------------------------------------------------------------------- children


def _child_features(lake: Path, warehouse: Path, buckets: int) -> dict:
    from transforms.config import load_config
    from transforms.features import compute_features
    from transforms.warehouse import connect, run_folder

    settings = with_buckets(load_config(), buckets)
    con = connect(warehouse, settings.run.duckdb)
    run_folder(con, "schema")
    started = time.perf_counter()
    stats = compute_features(con, settings, RUN_DATE, lake, "bench")
    seconds = time.perf_counter() - started
    con.close()
    return {"seconds": seconds, "subscribers": sum(stats.subscribers.values()), "passes": stats.passes,
            "threads": settings.run.duckdb.threads}


def _child_floor(lake: Path, warehouse: Path, buckets: int) -> dict:
    from transforms.config import load_config
    from transforms.warehouse import connect, split_statements

    settings = load_config()
    con = connect(warehouse, settings.run.duckdb)
    create, count = split_statements((Path(__file__).parent / "bench_features_floor.sql").read_text(encoding="utf-8"))
    started = time.perf_counter()
    con.execute(create, {"glob": str(lake / "cdr" / "*" / "*" / "*" / "*.parquet"), "short": settings.run.cdr.short_call_seconds})
    seconds = time.perf_counter() - started
    n = con.execute(count).fetchall()[0][0]
    con.close()
    return {"seconds": seconds, "subscribers": n}


def _child_pandas(lake: Path, warehouse: Path, buckets: int) -> dict:
    """The same per-subscriber features in pandas, vectorised (no Python loop over rows)."""
    import pandas as pd

    from transforms.config import load_config

    c = load_config().run.cdr
    started = time.perf_counter()
    files = sorted(str(p) for p in (lake / "cdr").rglob("*.parquet"))
    cols = ["a_number", "b_number", "start_time", "local_hour", "duration_s", "event_type", "a_carrier", "cell_key", "imei"]
    df = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    df = df[df["a_carrier"] == CARRIER]
    voice = df["event_type"] == "voice"
    answered = voice & (df["duration_s"] > 0)
    night = (df["local_hour"] >= c.night_start_hour) | (df["local_hour"] < c.night_end_hour)
    flags = pd.DataFrame({"a": df["a_number"], "voice": voice, "answered": answered,
                          "short": answered & (df["duration_s"] < c.short_call_seconds), "night": night,
                          "dur": df["duration_s"].where(voice, 0)})
    g = flags.groupby("a", sort=False)
    out = g.agg(events=("voice", "size"), calls=("voice", "sum"), answered=("answered", "sum"),
                short=("short", "sum"), night=("night", "sum"), duration=("dur", "sum"))
    by_a = df.groupby("a_number", sort=False)
    out["callees"] = by_a["b_number"].nunique()
    out["cells"] = by_a["cell_key"].nunique()
    out["imeis"] = by_a["imei"].nunique()
    out["first"] = by_a["start_time"].min()
    out["last"] = by_a["start_time"].max()
    # sequence features on voice calls sorted by caller and time
    v = df.loc[voice, ["a_number", "start_time", "duration_s"]].sort_values(["a_number", "start_time"], kind="stable")
    t = v["start_time"].astype("int64").to_numpy() // 1000  # ns -> us
    t_end = t + v["duration_s"].to_numpy().astype("int64") * 1_000_000
    a = v["a_number"].to_numpy()
    prev_end = pd.Series(t_end).groupby(a).cummax().groupby(a).shift(1).to_numpy()
    short_gap = (t - prev_end) < c.short_gap_seconds * 1_000_000
    grp = pd.factorize(a)[0].astype("int64")
    key = grp * (1 << 42) + (t - t.min())
    window = c.burst_window_minutes * 60 * 1_000_000
    first_in = np.searchsorted(key, key - window + 1, side="left")
    in_window = np.arange(len(key)) - first_in + 1
    seq = pd.DataFrame({"a": a, "burst": in_window, "short_gap": short_gap}).groupby("a", sort=False).agg(
        max_burst=("burst", "max"), short_gaps=("short_gap", "sum"))
    out = out.join(seq)
    inbound = pd.concat([pd.read_parquet(str(p), columns=["b_number", "event_type"])
                         for p in sorted((lake / "cdr_inbound").rglob("*.parquet"))], ignore_index=True)
    counts = inbound.assign(voice=inbound["event_type"] == "voice").groupby("b_number", sort=False)["voice"].agg(["sum", "size"])
    out = out.join(counts.rename(columns={"sum": "calls_in", "size": "events_in"}))
    pairs = df[["imei", "a_number"]].dropna().drop_duplicates()
    shared = pairs.groupby("imei")["a_number"].transform("size")
    out["imei_max_subscribers"] = shared.groupby(pairs["a_number"]).max()
    out["short_call_share"] = out["short"] / out["answered"].where(out["answered"] > 0)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "subscribers": int(len(out))}


def _child_dask(lake: Path, warehouse: Path, buckets: int, workers: int) -> dict:
    """The feature stage with its bucket passes on a LocalCluster of ``workers`` processes (1 thread each).

    The same transforms functions the flow's DaskTaskRunner calls (plan, compute_bucket_part per pass,
    load), driven by a dask.distributed client directly so Prefect's own per-task overhead is not timed.
    """
    from distributed import Client, LocalCluster

    from flows.runners import pass_limits
    from transforms.config import load_config
    from transforms.features import compute_bucket_part, load_feature_parts, plan_feature_stage
    from transforms.warehouse import connect, run_folder

    settings = with_buckets(load_config(), buckets)
    so = settings.run.scale_out
    con = connect(warehouse, settings.run.duckdb)
    run_folder(con, "schema")
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, memory_limit=so.worker_memory,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        started = time.perf_counter()
        plan = plan_feature_stage(con, settings, RUN_DATE, lake, "bench", pass_duckdb=pass_limits(settings))
        parts = client.gather(client.map(compute_bucket_part, [plan] * len(plan.passes), plan.passes, pure=False))
        stats = load_feature_parts(con, plan, parts)
        seconds = time.perf_counter() - started
        worker_rss = sorted(client.run(peak_rss_mb).values())
    con.close()
    return {"seconds": seconds, "subscribers": sum(stats.subscribers.values()), "passes": stats.passes,
            "worker_peak_rss_mb": worker_rss}


CHILDREN = {"features": _child_features, "floor": _child_floor, "pandas": _child_pandas,
            "dask1": lambda lake, wh, b: _child_dask(lake, wh, b, 1),
            "dask2": lambda lake, wh, b: _child_dask(lake, wh, b, 2)}


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). ru_maxrss would include the forking parent's peak on Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child_main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", required=True, choices=sorted(CHILDREN))
    ap.add_argument("--lake", type=Path, required=True)
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--buckets", type=int, required=True)
    args = ap.parse_args(argv)
    result = CHILDREN[args.child](args.lake, args.warehouse, args.buckets)
    result["peak_rss_mb"] = peak_rss_mb()
    print("RESULT " + json.dumps(result), flush=True)


def run_child(kind: str, lake: Path, warehouse: Path, buckets: int, extra_path: str | None = None) -> dict:
    """One measurement in a fresh process: its own peak RSS, no warm caches of the previous one."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, extra_path, env.get("PYTHONPATH")) if p)
    warehouse.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "tests.benchmarks.bench_features", "--child", kind, "--lake", str(lake),
           "--warehouse", str(warehouse), "--buckets", str(buckets)]
    proc = subprocess.run(cmd, env=env, cwd=root, capture_output=True, text=True)
    warehouse.unlink(missing_ok=True)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}
    return json.loads(lines[-1][len("RESULT "):])


def pandas_site(work: Path) -> tuple[str | None, str]:
    """pandas comes with the project's `bench` extra (`make bench` installs it); nothing is fetched here."""
    try:
        import pandas

        return None, "pandas " + pandas.__version__
    except ImportError:
        return None, "pandas not installed (pip install -e '.[bench]'; `make bench` does)"


# --------------------------------------------------------------------------------------------- main


def _fmt(r: dict, key: str = "seconds") -> str:
    return f"{r[key]:8.1f}" if key in r else "       -"


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--child":
        _child_main(argv)
        return
    ap = argparse.ArgumentParser(prog="bench features", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="10M,50M", help="comma-separated sizes, e.g. 10M,50M,250M")
    ap.add_argument("--pandas-max", default="50M", help="largest size pandas is run at")
    ap.add_argument("--dask-rows", default="50M", help="sizes at which 1 vs 2 local Dask workers are compared ('' for none)")
    ap.add_argument("--work", type=Path, default=None, help="working folder (default: a new temp folder)")
    ap.add_argument("--keep", action="store_true", help="keep generated inboxes and lakes")
    args = ap.parse_args(argv)
    sizes = parse_rows(args.rows)
    pandas_max = parse_rows(args.pandas_max)[0]
    dask_rows = set(parse_rows(args.dask_rows)) if args.dask_rows else set()
    work = args.work or Path(os.environ.get("TMPDIR", "/tmp")) / f"subflag-bench-features-{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    extra, note = pandas_site(work)
    print(f"work folder {work}; {note}", flush=True)
    results = []
    try:
        for rows in sizes:
            folder = work / f"r{rows}"
            shutil.rmtree(folder, ignore_errors=True)
            buckets = buckets_for(rows)
            t0 = time.perf_counter()
            info = generate_inbox(rows, folder / "inbox")
            gen_s = time.perf_counter() - t0
            ing = ingest_inbox(folder / "inbox", folder / "lake", buckets)
            shutil.rmtree(folder / "inbox", ignore_errors=True)
            print(f"\n{rows:,} rows, {info['callers']:,} callers drawn, {buckets} buckets: generated in {gen_s:.0f} s, "
                  f"ingested in {ing['seconds']:.0f} s ({rows / ing['seconds'] / 1e6:.2f} M rows/s)", flush=True)
            row = {"rows": rows, "buckets": buckets, "ingest_s": ing["seconds"]}
            kinds = ("floor", "features", "pandas", *(("dask1", "dask2") if rows in dask_rows else ()))
            for kind in kinds:
                if kind == "pandas" and (rows > pandas_max or (extra is None and note.startswith("pandas not"))):
                    row[kind] = {"skipped": f"rows > --pandas-max {args.pandas_max}" if rows > pandas_max else note}
                    print(f"  {kind:8s} skipped: {row[kind]['skipped']}", flush=True)
                    continue
                r = run_child(kind, folder / "lake", folder / f"{kind}.duckdb", buckets, extra)
                row[kind] = r
                if "error" in r:
                    print(f"  {kind:8s} FAILED {r['error']}", flush=True)
                else:
                    workers = r.get("worker_peak_rss_mb")
                    per_worker = f"  worker peak RSS {', '.join(f'{w / 1024:.2f}' for w in workers)} GiB" if workers else ""
                    print(f"  {kind:8s} {r['seconds']:8.1f} s  peak RSS {r['peak_rss_mb'] / 1024:5.2f} GiB  "
                          f"subscribers {r['subscribers']:,}{per_worker}", flush=True)
            results.append(row)
            if not args.keep:
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    _summary(results)


def _summary(results: list[dict]) -> None:
    print("\nrows        buckets  floor s  subflag s  pandas s  subflag/floor  pandas/subflag  subflag RSS GiB  M rows/s")
    for r in results:
        f, s, p = r.get("floor", {}), r.get("features", {}), r.get("pandas", {})
        ratio = f"{s['seconds'] / f['seconds']:13.2f}" if "seconds" in s and "seconds" in f else "            -"
        pratio = f"{p['seconds'] / s['seconds']:14.1f}" if "seconds" in p and "seconds" in s else "             -"
        rss = f"{s['peak_rss_mb'] / 1024:15.2f}" if "peak_rss_mb" in s else "              -"
        speed = f"{r['rows'] / s['seconds'] / 1e6:9.2f}" if "seconds" in s else "        -"
        print(f"{r['rows']:<11,} {r['buckets']:7d} {_fmt(f)} {_fmt(s):>10} {_fmt(p):>9} {ratio} {pratio} {rss} {speed}")
    for r in results:
        d1, d2 = r.get("dask1", {}), r.get("dask2", {})
        if "seconds" in d1 and "seconds" in d2:
            print(f"\n{r['rows']:,} rows on Dask: 1 worker {d1['seconds']:.1f} s, 2 workers {d2['seconds']:.1f} s, "
                  f"speed-up {d1['seconds'] / d2['seconds']:.2f}x; in-process (DuckDB threads="
                  f"{r['features'].get('threads', '?')}) {r['features'].get('seconds', float('nan')):.1f} s")
    timed = [(r["rows"], r["features"]["seconds"]) for r in results if "seconds" in r.get("features", {})]
    if len(timed) >= 2:
        x = np.log([t[0] for t in timed])
        y = np.log([t[1] for t in timed])
        slope = float(np.polyfit(x, y, 1)[0])
        print(f"\nsubflag time vs rows: log-log slope {slope:.2f} (1.00 = linear) over {[t[0] for t in timed]}")
    floor = [(r["rows"], r["floor"]["seconds"]) for r in results if "seconds" in r.get("floor", {})]
    if len(floor) >= 2:
        slope = float(np.polyfit(np.log([t[0] for t in floor]), np.log([t[1] for t in floor]), 1)[0])
        print(f"floor time vs rows: log-log slope {slope:.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
