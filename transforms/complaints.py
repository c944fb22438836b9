"""Complaints from the other channels (hotline, web, app, police exports) → the common complaint frame.

These files are structured (§4 columns), but filled in by people and by many systems: categories come
as "Lừa đảo", "lua dao", "SCAM" or "Cuộc gọi rác", so they are mapped through the synonym table in
``config/categories.toml``. An unknown category is not a reason to lose a complaint: it becomes
``other`` and is counted, so the operator sees the table needs a new synonym.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from transforms.config import Settings, fold_label
from transforms.numbers import NumberingTables, normalise_numbers, output_schema
from transforms.readers import empty_rejects, reject_rows, render_raw
from transforms.sms5656 import cap_text, clean_text, fold_expr
from transforms.timestamps import parse_timestamps

COMPLAINT_REQUIRED = ["complaint_id", "received_at", "channel", "reported_number", "category"]
COMPLAINT_OPTIONAL = ["reporter", "description", "occurred_at"]
REPORTER_KINDS = ["mobile", "landline", "international"]


@dataclass(frozen=True)
class ParsedComplaints:
    complaints: pl.DataFrame
    rejects: pl.DataFrame
    unknown_categories: int
    invalid_reporters: int


def category_table(settings: Settings) -> dict[str, str]:
    """Folded synonym → category name (each category's own name included)."""
    return {fold_label(s): c.name for c in settings.categories.category for s in [c.name, *c.synonyms]}


def map_categories(values: pl.Expr, settings: Settings) -> pl.Expr:
    """Category name for each free-text value; null where the table has no such synonym."""
    table = category_table(settings)
    return fold_expr(values.fill_null("")).replace_strict(list(table), list(table.values()), default=None, return_dtype=pl.String)


def _reasons() -> tuple[pl.Expr, pl.Expr]:
    checks: list[tuple[pl.Expr, str, pl.Expr]] = [
        (pl.col("complaint_id").is_null(), "missing_value", pl.lit("column complaint_id: empty; every complaint needs its id")),
        (
            pl.col("received_at").is_null(),
            "bad_timestamp",
            pl.format(
                "column received_at: expected a date-time such as 2024-03-05 09:15:00, 2024-03-05T09:15:00+07:00 "
                "or 05/03/2024 09:15; got '{}'",
                pl.col("_received_text").fill_null(""),
            ),
        ),
        (
            pl.col("occurred_at").is_null() & pl.col("_occurred_text").is_not_null(),
            "bad_timestamp",
            pl.format(
                "column occurred_at: expected a date-time such as 2024-03-05 09:15:00 or 05/03/2024 09:15 (or empty); got '{}'",
                pl.col("_occurred_text"),
            ),
        ),
        (pl.col("channel").is_null(), "missing_value", pl.lit("column channel: empty; expected hotline, web, app, police, …")),
        (pl.col("reported_raw").is_null(), "no_source", pl.lit("column reported_number: empty; the complaint names no number")),
        (
            pl.col("reported_kind").cast(pl.String) == "invalid",
            "invalid_number",
            pl.format("column reported_number: '{}' is not a valid number, short code or brandname", pl.col("reported_raw")),
        ),
    ]
    reason = pl.when(checks[0][0]).then(pl.lit(checks[0][1]))
    detail = pl.when(checks[0][0]).then(checks[0][2])
    for cond, code, text in checks[1:]:
        reason = reason.when(cond).then(pl.lit(code))
        detail = detail.when(cond).then(text)
    return reason.otherwise(None), detail.otherwise(None)


def parse_complaints(
    records: pl.DataFrame, tables: NumberingTables, settings: Settings, source_sha256: str
) -> ParsedComplaints:
    """Typed complaints + rejects for one file; ``source_sha256`` is accepted for symmetry with 5656 ids."""
    del source_sha256  # complaint ids come from the file itself
    tz = settings.run.timezone
    raw_columns = [c for c in [*COMPLAINT_REQUIRED, *COMPLAINT_OPTIONAL] if c in records.columns]
    optional = {c: pl.col(c) if c in records.columns else pl.lit(None, dtype=pl.String) for c in COMPLAINT_OPTIONAL}
    blank_to_null = lambda e: pl.when(e.str.len_chars() > 0).then(e)  # noqa: E731
    frame = records.with_columns(
        _raw=render_raw(raw_columns),
        complaint_id=blank_to_null(pl.col("complaint_id").str.strip_chars()),
        _received_text=pl.col("received_at"),
        _occurred_text=blank_to_null(optional["occurred_at"].str.strip_chars()),
        channel=blank_to_null(fold_expr(pl.col("channel").fill_null("")).str.replace_all(" ", "_")),
        reported_raw=blank_to_null(pl.col("reported_number").str.strip_chars()),
        reporter_raw=blank_to_null(optional["reporter"].str.strip_chars()),
        category=map_categories(pl.col("category"), settings),
        content=cap_text(clean_text(optional["description"].fill_null("")), settings.categories.content.max_chars),
    )
    frame = frame.with_columns(
        received_at=parse_timestamps(frame["received_at"], tz),
        occurred_at=parse_timestamps(frame["_occurred_text"], tz),
    )
    frame = normalise_numbers(frame, "reporter_raw", tables, prefix="reporter_")
    frame = normalise_numbers(frame, "reported_raw", tables, prefix="reported_")
    reason, detail = _reasons()
    frame = frame.with_columns(reason=reason, detail=detail)
    ok = pl.col("reason").is_null()
    dup = ok & ~pl.col("complaint_id").is_first_distinct().over(ok)
    frame = frame.with_columns(
        reason=pl.when(dup).then(pl.lit("duplicate_id")).otherwise(pl.col("reason")),
        detail=pl.when(dup)
        .then(pl.format("column complaint_id: '{}' already appeared earlier in this file", pl.col("complaint_id")))
        .otherwise(pl.col("detail")),
    )

    accepted = frame.filter(pl.col("reason").is_null())
    reporter_cols, reported_cols = list(output_schema("reporter_")), list(output_schema("reported_"))
    # A reporter is a person's line; anything else (a brandname, garbage) is dropped to null and counted.
    bad_reporter = accepted["reporter_raw"].is_not_null() & ~accepted["reporter_kind"].cast(pl.String).is_in(REPORTER_KINDS)
    unknown = int(accepted["category"].is_null().sum())
    accepted = accepted.with_columns(pl.when(bad_reporter).then(None).otherwise(pl.col(c)).alias(c) for c in reporter_cols)
    complaints = accepted.select(
        "complaint_id",
        "channel",
        "received_at",
        "occurred_at",
        "reporter_raw",
        *reporter_cols,
        "reported_raw",
        *reported_cols,
        pl.when(pl.col("category") == "spam_sms").then(pl.lit("sms")).otherwise(pl.lit("call")).alias("kind"),
        pl.col("category").fill_null("other"),
        "content",
        "source_file",
        "source_line",
    )
    rejected = frame.filter(pl.col("reason").is_not_null())
    rejects = reject_rows(rejected, pl.col("_raw"), pl.col("reason"), pl.col("detail")) if rejected.height else empty_rejects()
    return ParsedComplaints(complaints, rejects, unknown_categories=unknown, invalid_reporters=int(bad_reporter.sum()))
