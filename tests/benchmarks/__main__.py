"""`make bench`: run every benchmark module (bench_*.py) or those named with --only.

Benchmarks are not part of the default test run; each module exposes ``main(argv) -> None`` and prints
its own figures, measured in one run so ratios are comparable on a shared, noisy machine.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import tests.benchmarks as pkg


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="make bench", description=__doc__)
    ap.add_argument("--only", action="append", default=[], help="benchmark name (e.g. numbers); repeatable")
    args, rest = ap.parse_known_args(argv)
    names = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("bench_"))
    chosen = args.only or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        sys.exit(f"unknown benchmark(s) {unknown}; available: {names}")
    for name in chosen:
        print(f"\n=== benchmark: {name} ===", flush=True)
        importlib.import_module(f"tests.benchmarks.bench_{name}").main(rest)


if __name__ == "__main__":
    main()
