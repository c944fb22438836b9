"""Decisions the compliance team recorded about candidates: the feedback that closes (or reopens) a case."""

from __future__ import annotations

import duckdb
import polars as pl

from transforms.ingest import Delivery, IngestContext, Landed, insert_frame, insert_rejects
from transforms.numbers import normalise_numbers
from transforms.readers import read_records, reject_rows, render_raw
from transforms.timestamps import parse_timestamps

DECISION_REQUIRED = ["msisdn", "decided_at", "decision"]
DECISION_OPTIONAL = ["case_ref", "note"]
DECISIONS = ("one_way_blocked", "two_way_blocked", "cleared", "restored")


def parse_decisions(records: pl.DataFrame, ctx: IngestContext) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Accepted decisions and rejects (bad number, bad timestamp, unknown decision), row for row."""
    frame = normalise_numbers(records, "msisdn", ctx.tables, prefix="n_").with_columns(
        parse_timestamps(records["decided_at"], ctx.settings.run.timezone).alias("decided_ts"),
        pl.col("decision").str.strip_chars().str.to_lowercase().alias("decision_norm"),
    )
    reason = (
        pl.when(pl.col("n_kind") != "mobile").then(pl.lit("invalid_number"))
        .when(pl.col("decided_ts").is_null()).then(pl.lit("bad_timestamp"))
        .when(~pl.col("decision_norm").is_in(DECISIONS).fill_null(False)).then(pl.lit("unknown_decision"))  # empty too
    )
    detail = (
        pl.when(pl.col("n_kind") != "mobile").then(pl.lit("column msisdn: expected a Vietnamese mobile number"))
        .when(pl.col("decided_ts").is_null()).then(pl.lit("column decided_at: expected a timestamp like 2024-03-05 09:15:00"))
        .otherwise(pl.lit(f"column decision: expected one of {', '.join(DECISIONS)}"))
    )
    frame = frame.with_columns(reason.alias("reason"), detail.alias("detail"))
    accepted = frame.filter(pl.col("reason").is_null()).select(
        pl.col("n_e164_int").alias("msisdn_int"),
        pl.col("n_e164").alias("msisdn"),
        pl.col("decided_ts").alias("decided_at"),
        pl.col("decision_norm").alias("decision"),
        *(pl.col(c) if c in frame.columns else pl.lit(None, pl.String).alias(c) for c in DECISION_OPTIONAL),
        "source_file",
        "source_line",
    )
    raw_cols = [c for c in records.columns if c not in ("source_file", "source_line")]
    rejects = reject_rows(frame.filter(pl.col("reason").is_not_null()), render_raw(raw_cols), pl.col("reason"), pl.col("detail"))
    return accepted, rejects


def land_decisions(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    read = read_records(d.path, DECISION_REQUIRED, DECISION_OPTIONAL)
    accepted, rejects = parse_decisions(read.records, ctx)
    rejects = pl.concat([read.rejects, rejects], how="diagonal_relaxed")
    insert_frame(con, "staging/insert_decisions", {"incoming_decisions": accepted}, d, ctx.run_id)
    insert_rejects(con, d, rejects, ctx.run_id)
    return Landed(rows_read=read.rows_read, rows_accepted=accepted.height, rows_rejected=rejects.height,
                  extra={"decisions": accepted.height})
