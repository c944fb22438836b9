"""Budget and batching for the fuzz targets (tests marked ``@pytest.mark.fuzz``).

One knob sets every budget: ``SUBFLAG_FUZZ_EXAMPLES`` (``make fuzz`` sets it to 100 000); without it each
target runs the small budget its test names, so the default suite stays fast.

Some targets drive a pipeline with a fixed cost per call (a 5656 parse opens DuckDB for its ids, a CDR
ingest writes a lake, a landed file commits a transaction): one call per hypothesis example would make
100 000 examples take hours. :func:`run_fuzz` therefore lets a target check its examples in batches —
every example is still drawn by hypothesis and checked by the real pipeline, only many examples share
one file or one call. A failing batch is bisected down to the smallest failing subset of examples, and
the failure names those examples; shrinking inside an example is what hypothesis loses, and the reason
batching is used only where the per-call cost forces it.

Each run is recorded in :data:`REPORTS`; ``tests/conftest.py`` prints them at the end of the session, so a
``make fuzz`` log states how many examples every target really ran.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

ENV = "SUBFLAG_FUZZ_EXAMPLES"
T = TypeVar("T")
_SHOWN_CHARS = 4000


def budget(default: int) -> int:
    """Examples per target: ``SUBFLAG_FUZZ_EXAMPLES`` when set (``make fuzz``), else the default-suite ``default``."""
    raw = os.environ.get(ENV, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{ENV}={raw!r}: expected a positive whole number of examples")
    return int(raw)


def fuzz_settings(default: int, **overrides: Any) -> hsettings:
    """Hypothesis settings for a fuzz target: the budget, no deadline, no health checks that only say 'slow'.

    Per-test fixtures (``tmp_path``, a settings object) are read-only inputs here, so the
    function-scoped-fixture check is noise as well.
    """
    options: dict[str, Any] = {
        "max_examples": budget(default),
        "deadline": None,
        "suppress_health_check": [
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ],
    }
    options.update(overrides)
    return hsettings(**options)


@dataclass
class FuzzReport:
    target: str
    budget: int
    examples: int = 0  # calls of the example body during the run
    checks: int = 0  # calls of the checked pipeline (one per batch)
    items: int = 0  # rows / strings / files the examples held, as the target counts them
    seconds: float = 0.0
    failed: bool = False

    def line(self) -> str:
        state = "FAILED" if self.failed else "ok"
        return (
            f"{self.target}: {self.examples} examples (budget {self.budget}), {self.items} items, "
            f"{self.checks} pipeline calls, {self.seconds:.1f} s, {state}"
        )


REPORTS: list[FuzzReport] = []


class FuzzFailure(AssertionError):
    """A batch failed; ``examples`` is the smallest failing subset the bisection found."""

    def __init__(self, target: str, examples: Sequence[object], cause: BaseException):
        shown = "\n".join(f"  {e!r}" for e in examples)
        if len(shown) > _SHOWN_CHARS:
            shown = shown[:_SHOWN_CHARS] + " …"
        super().__init__(
            f"{target}: {type(cause).__name__}: {cause}\n"
            f"smallest failing set of examples found by bisection ({len(examples)}):\n{shown}"
        )
        self.examples = list(examples)
        self.cause = cause


class _Stop(Exception):
    """Raised inside the hypothesis run once a batch failed, so the run ends instead of drawing on."""


def _halt() -> NoReturn:
    """The one place _Stop is raised: hypothesis tells failures apart by where they were raised."""
    raise _Stop


def _fails(check: Callable[[list[T]], object], examples: list[T]) -> BaseException | None:
    try:
        check(examples)
    except Exception as exc:  # noqa: BLE001 - any exception is a finding
        return exc
    return None


def minimise(check: Callable[[list[T]], object], examples: list[T], first: BaseException) -> tuple[list[T], BaseException]:
    """Bisect a failing batch to a small failing subset: halves while one half fails alone, then singles.

    A batch that passes when checked again (the check depends on state, e.g. a warehouse that already
    holds the file) is reported whole, with its first failure.
    """
    cause = _fails(check, examples)
    if cause is None:
        first.add_note("the batch passed when checked again: the failure depends on state earlier batches left")
        return examples, first
    current = examples
    while len(current) > 1:
        half = len(current) // 2
        for part in (current[:half], current[half:]):
            if (exc := _fails(check, part)) is not None:
                current, cause = part, exc
                break
        else:
            for one in current:
                if (exc := _fails(check, [one])) is not None:
                    return [one], exc
            break
    return current, cause


def run_fuzz(
    target: str,
    strategy: st.SearchStrategy[T],
    check: Callable[[list[T]], int | None],
    *,
    default: int,
    batch: int = 1,
    group: Callable[[T], Hashable] | None = None,
    **overrides: Any,
) -> FuzzReport:
    """Draw ``budget(default)`` examples from ``strategy`` and check them ``batch`` at a time.

    ``check`` gets a list of examples (all with the same ``group(example)`` key, e.g. one file format),
    raises on a finding and may return how many items (rows, strings) it checked. With ``batch=1`` the
    check runs inside hypothesis, which shrinks a failure as usual.
    """
    report = FuzzReport(target, budget(default))
    pending: dict[Hashable, list[T]] = {}
    failure: list[FuzzFailure] = []
    key_of = group or (lambda _e: None)

    def run(examples: list[T]) -> None:
        report.checks += 1
        report.items += int(check(examples) or 0)

    def flush(key: Hashable) -> None:
        examples = pending.pop(key, [])
        if not examples:
            return
        try:
            run(examples)
        except Exception as exc:  # noqa: BLE001
            culprits, cause = minimise(check, examples, exc)
            failure.append(FuzzFailure(target, culprits, cause))
            _halt()

    if batch > 1:
        overrides.setdefault("report_multiple_bugs", False)

    @fuzz_settings(default, **overrides)
    @given(example=strategy)
    def body(example: T) -> None:
        if failure:
            _halt()
        report.examples += 1
        if batch == 1:
            run([example])
            return
        key = key_of(example)
        pending.setdefault(key, []).append(example)
        if len(pending[key]) >= batch:
            flush(key)

    started = time.perf_counter()
    REPORTS.append(report)
    try:
        body()
        for key in list(pending):
            flush(key)
    except _Stop:
        pass
    except BaseExceptionGroup as group_:
        _, rest = group_.split(_Stop)
        if rest is not None or not failure:
            report.failed = True
            raise
    except BaseException:
        report.failed = True
        raise
    finally:
        report.seconds = time.perf_counter() - started
    if failure:
        report.failed = True
        raise failure[0] from failure[0].cause
    if report.examples < report.budget:
        report.failed = True
        raise AssertionError(f"{target}: hypothesis ran {report.examples} examples, fewer than the budget {report.budget}")
    return report
