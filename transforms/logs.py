"""Structured stage logs: one line per stage with its counts and seconds, and nothing else.

Logs leave the warehouse's access controls (Prefect's database, terminals, CI output), so a stage line
carries numbers only: a value that is not a number (or a mapping of names to numbers, like candidates
per carrier) is refused (or, when logging a running stage, dropped and counted), so complaint text, phone
numbers and registry names cannot reach a log through this path. Names must start with a letter, which keeps phone numbers out of keys too.

A line reads ``stage=features seconds=3.214 bucket_passes=56 feature_rows=996`` (logfmt: grep-able and
machine-parseable); the same fields ride on the log record as ``record.subflag`` for JSON handlers.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

STAGE_LOGGER = "subflag.stage"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$")

Number = int | float | bool
Counts = Mapping[str, "Number | Mapping[str, Number]"]


class UnsafeLogField(ValueError):
    """A stage log was asked to carry something that is not a named number."""


def _check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise UnsafeLogField(f"{what} {name!r} is not a plain name (letters, digits, _ . -, starting with a letter)")
    return name


def _check_number(key: str, value: object) -> Number:
    if isinstance(value, (bool, int, float)):
        return value
    raise UnsafeLogField(f"stage log field {key!r}: expected a number, got {type(value).__name__}")


def stage_fields(counts: Counts, *, strict: bool = True) -> dict[str, Number]:
    """Flatten ``{"candidates": {"viettel": 3}}`` to ``{"candidates.viettel": 3}``.

    Anything but named numbers raises :class:`UnsafeLogField`; with ``strict=False`` it is dropped instead
    and counted as ``unsafe_fields_dropped`` — a log line must never be the reason a run fails.
    """
    flat: dict[str, Number] = {}
    dropped = 0
    for key, value in counts.items():
        try:
            _check_name(key, "stage log field")
            if isinstance(value, Mapping):
                for sub, v in value.items():
                    name = f"{key}.{_check_name(sub, 'stage log field')}"
                    flat[name] = _check_number(name, v)
            else:
                flat[key] = _check_number(key, value)
        except UnsafeLogField:
            if strict:
                raise
            dropped += 1
    if dropped:
        flat["unsafe_fields_dropped"] = dropped
    return dict(sorted(flat.items()))


def _show(value: Number) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def format_stage_line(stage: str, seconds: float, counts: Counts, *, strict: bool = True) -> str:
    fields = stage_fields(counts, strict=strict)
    parts = [f"stage={_check_name(stage, 'stage')}", f"seconds={seconds:.3f}"]
    parts += [f"{k}={_show(v)}" for k, v in fields.items()]
    return " ".join(parts)


def log_stage(logger: logging.Logger | logging.LoggerAdapter, stage: str, seconds: float, counts: Counts) -> str:
    """Emit the stage's one line at INFO and return it; unsafe fields are dropped, never logged."""
    fields = stage_fields(counts, strict=False)
    line = format_stage_line(stage, seconds, fields)
    logger.info(line, extra={"subflag": {"stage": stage, "seconds": round(seconds, 3), "counts": fields}})
    return line


@contextmanager
def timed_stage(logger: logging.Logger | logging.LoggerAdapter, stage: str) -> Iterator[dict[str, Any]]:
    """Time a block and log its line when it ends; the block fills the yielded dict with its counts.

    A failing block logs ``failed=true`` with whatever counts it had, then the error propagates.
    """
    _check_name(stage, "stage")
    counts: dict[str, Any] = {}
    start = time.perf_counter()
    try:
        yield counts
    except BaseException:
        log_stage(logger, stage, time.perf_counter() - start, {**counts, "failed": True})
        raise
    log_stage(logger, stage, time.perf_counter() - start, counts)
