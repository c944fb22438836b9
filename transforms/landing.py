"""One lander per inbox folder: parse and normalise a delivered file, then load it into staging.

Each lander runs inside the transaction :func:`transforms.ingest.land_delivery` opens, so a file's rows,
its rejects and its ledger row appear together or not at all.
"""

from __future__ import annotations

import duckdb
import polars as pl

from transforms.cdr import ingest_cdr_file
from transforms.decisions import land_decisions
from transforms.faults import kill_point
from transforms.registry import land_ported, land_subscribers
from transforms.complaints import COMPLAINT_OPTIONAL, COMPLAINT_REQUIRED, parse_complaints
from transforms.warehouse import query_model
from transforms.ingest import Delivery, IngestContext, Landed, Lander, insert_frame, insert_rejects
from transforms.readers import InputError, read_records
from transforms.requests import load_request, request_frames
from transforms.sms5656 import REPORT_OPTIONAL, REPORT_REQUIRED, parse_5656


def insert_complaints(con: duckdb.DuckDBPyConnection, complaints: pl.DataFrame, d: Delivery, run_id: str) -> int:
    """Stage new complaints; returns how many were already staged (a re-delivery adds nothing)."""
    con.register("incoming_complaints", complaints)
    try:
        known = int(query_model(con, "staging/count_known_complaints")["known"][0])
    finally:
        con.unregister("incoming_complaints")
    insert_frame(con, "staging/insert_complaints", {"incoming_complaints": complaints}, d, run_id)
    return known


def land_reports_5656(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    read = read_records(d.path, REPORT_REQUIRED, REPORT_OPTIONAL)
    parsed = parse_5656(read.records, ctx.tables, ctx.settings, d.sha256)
    rejects = pl.concat([read.rejects, parsed.rejects], how="diagonal_relaxed")
    known = insert_complaints(con, parsed.complaints, d, ctx.run_id)
    insert_frame(con, "staging/insert_dnc", {"incoming_dnc": parsed.dnc}, d, ctx.run_id)
    insert_rejects(con, d, rejects, ctx.run_id)
    return Landed(
        rows_read=read.rows_read,
        rows_accepted=parsed.complaints.height - known + parsed.dnc.height,
        rows_rejected=rejects.height,
        rows_duplicate=known,
        extra={"complaints": parsed.complaints.height - known, "dnc": parsed.dnc.height},
    )


def land_complaints(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    read = read_records(d.path, COMPLAINT_REQUIRED, COMPLAINT_OPTIONAL)
    parsed = parse_complaints(read.records, ctx.tables, ctx.settings, d.sha256)
    rejects = pl.concat([read.rejects, parsed.rejects], how="diagonal_relaxed")
    known = insert_complaints(con, parsed.complaints, d, ctx.run_id)
    insert_rejects(con, d, rejects, ctx.run_id)
    return Landed(
        rows_read=read.rows_read,
        rows_accepted=parsed.complaints.height - known,
        rows_rejected=rejects.height,
        rows_duplicate=known,
        extra={"complaints": parsed.complaints.height - known, "unknown_categories": parsed.unknown_categories},
    )


def land_request(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    if not d.path.name.lower().endswith(".json"):  # a .csv.gz here would otherwise read as "not UTF-8"
        raise InputError(d.path, "unsupported file type in requests/; expected one .json file per request")
    request = load_request(d.path, ctx.settings.run.timezone)
    header, numbers = request_frames(request, d.path, ctx.tables)
    insert_frame(
        con,
        "staging/insert_request",
        {"incoming_request": header, "incoming_request_numbers": numbers},
        d,
        ctx.run_id,
    )
    return Landed(rows_read=1, rows_accepted=1, extra={"requests": 1})


def land_cdr(con: duckdb.DuckDBPyConnection, d: Delivery, ctx: IngestContext) -> Landed:
    assert d.carrier is not None
    result = ingest_cdr_file(d.path, d.carrier, ctx.settings, ctx.tables, ctx.lake, d.sha256)
    kill_point("landing.cdr")  # the lake files are in place, the ledger row is not
    insert_rejects(con, d, result.rejects, ctx.run_id)
    return Landed(
        rows_read=result.rows_read,
        rows_accepted=result.rows_accepted,
        rows_rejected=result.rows_rejected,
        rows_duplicate=result.rows_duplicate,
        extra={"cdr_rows": result.rows_accepted},
    )


LANDERS: dict[str, Lander] = {
    "reports_5656": land_reports_5656,
    "complaints": land_complaints,
    "requests": land_request,
    "cdr": land_cdr,
    "subscribers": land_subscribers,
    "ported": land_ported,
    "decisions": land_decisions,
}
