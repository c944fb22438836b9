"""5656 parsing throughput (issue 3 target: ≥ 5 M messages/minute on the 2-core machine).

Generates a deterministic mix of real-world shapes — official bracket forms, loose forms, spaced and
dotted numbers, +84/legacy/full-width numbers, brandnames, DNC registrations and unreadable texts — then
times ``parse_5656`` (numbering included) and, separately, ``read_records`` on the same data as CSV.

    .venv/bin/python -m tests.benchmarks --only sms5656 [--n 1000000] [--repeat 2] [--no-read]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import polars as pl

from transforms.config import load_config
from transforms.numbers import NumberingTables
from transforms.readers import read_records
from transforms.sms5656 import REPORT_OPTIONAL, REPORT_REQUIRED, parse_5656

TARGET_PER_MINUTE = 5_000_000
FORMS = [
    ("V {n} lua dao chuyen tien gui 5656", 20),
    ("V({n}) lừa đảo", 10),
    ("V [{n}][Giả danh công an yêu cầu chuyển tiền]", 10),
    ("S {n} tin nhắn quảng cáo bất động sản", 10),
    ("v {spaced} gọi quấy rối gửi 5656", 8),
    ("V {dotted} moi vay tien", 5),
    ("V +84 {nsn} lừa đảo", 5),
    ("V {legacy} goi lua dao", 3),
    ("V {wide} lừa đảo", 2),
    ("S VIETCOMBANK Quy khach vui long truy cap link http://x.example", 6),
    ("S [FE CREDIT] vay tiền nhanh", 3),
    ("S 9029 tin nhan rac", 3),
    ("V {n}\ndòng 2 😡 <script>x</script>", 3),
    ("DK DNC", 4),
    ("HUY DNC", 1),
    ("xin chào", 3),
    ("V lua dao", 2),
    ("V {n}5 lua dao", 2),
]
PREFIXES = ["091", "094", "081", "083", "088", "098", "097", "086", "032", "039", "090", "093", "070", "079", "056", "058", "087"]
WIDE = str.maketrans("0123456789", "０１２３４５６７８９")


def generate(n: int, seed: int = 5656) -> pl.DataFrame:
    rng = random.Random(seed)
    pool = [rng.choice(PREFIXES) + f"{rng.randrange(10**7):07d}" for _ in range(5000)]
    forms = rng.choices([f for f, _ in FORMS], weights=[w for _, w in FORMS], k=n)
    picks = [pool[rng.randrange(len(pool))] for _ in range(n)]
    messages = [
        f.format(
            n=p,
            spaced=f"{p[:4]} {p[4:7]} {p[7:]}",
            dotted=f"{p[:4]}.{p[4:7]}.{p[7:]}",
            nsn=f"{p[1:4]} {p[4:7]} {p[7:]}",
            legacy="0162" + p[3:],
            wide=p.translate(WIDE),
        )
        for f, p in zip(forms, picks)
    ]
    reporters = [pool[rng.randrange(len(pool))] for _ in range(n)]
    return pl.DataFrame(
        {
            "received_at": pl.Series(["2024-03-05 09:15:00"] * n),
            "reporter": reporters,
            "message": messages,
            "report_id": pl.Series([None] * n, dtype=pl.String),
            "source_file": ["bench.csv"] * n,
            "source_line": pl.int_range(2, n + 2, eager=True),
        }
    )


def main(argv: list[str]) -> None:
    ap = argparse.ArgumentParser(prog="bench_sms5656")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-read", action="store_true", help="skip the CSV reading measurement")
    args = ap.parse_args(argv)

    settings = load_config()
    tables = NumberingTables.from_settings(settings)
    t0 = time.perf_counter()
    records = generate(args.n)
    print(f"generated {args.n:,} messages in {time.perf_counter() - t0:.1f} s", flush=True)

    parse_5656(records.head(1000), tables, settings, "0" * 64)  # warm-up (regex compilation, pools)
    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        parsed = parse_5656(records, tables, settings, "0" * 64)
        best = min(best, time.perf_counter() - t0)
    rate = args.n / best * 60
    total = parsed.complaints.height + parsed.dnc.height + parsed.rejects.height
    assert total == args.n, f"rows lost: {args.n} read, {total} accounted"
    print(
        f"parse_5656: {args.n:,} messages in {best:.2f} s (best of {args.repeat}) = {rate / 1e6:.2f} M messages/min "
        f"[target {TARGET_PER_MINUTE / 1e6:.0f} M/min: {'met' if rate >= TARGET_PER_MINUTE else 'NOT met'}]"
    )
    print(
        f"  complaints {parsed.complaints.height:,}, dnc {parsed.dnc.height:,}, rejects {parsed.rejects.height:,} "
        f"({dict(parsed.rejects['reason'].value_counts().iter_rows())})"
    )

    if not args.no_read:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "reports.csv"
            records.select(REPORT_REQUIRED).write_csv(path)
            t0 = time.perf_counter()
            read = read_records(path, REPORT_REQUIRED, REPORT_OPTIONAL)
            t_read = time.perf_counter() - t0
            print(
                f"read_records (CSV, {path.stat().st_size / 1e6:.0f} MB): {read.rows_read:,} rows in {t_read:.2f} s = "
                f"{read.rows_read / t_read * 60 / 1e6:.2f} M rows/min; read + parse = "
                f"{args.n / (t_read + best) * 60 / 1e6:.2f} M messages/min"
            )


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
