"""From authority requests in the warehouse to signed packages: who holds what, and which rows go in.

The packaging core (:mod:`transforms.packaging`) turns frames into a zip; this module decides the frames.
A request may name numbers on several networks, so it is answered by one package per carrier that holds
at least one of its numbers *now* (the portability model on the run date, confirmed by that carrier's
registry), each naming where the other numbers went and which ones nobody holds — the authority then
knows whom to ask next. Every selection is a SQL model in ``sql/packages/``; the data is as of the run
date, so the same warehouse, date and key rebuild the same bytes. Decree 49 identity data is read only
for a request whose ``fields`` include ``subscriber``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
from pydantic import ValidationError

from transforms.cdr import LAKE_SCHEMA, cdr_root, inbound_root, lake_layout
from transforms.config import Carrier, Settings
from transforms.faults import kill_point
from transforms.features import partition_files
from transforms.ingest import Delivery, IngestContext, known_hashes, land_delivery, sha256_of
from transforms.lineage import derive_run_id
from transforms.numbers import NumberingTables
from transforms.packaging import PackageContentError, PackageFrames, PackagePathError, build_package, generation_time
from transforms.readers import InputError
from transforms.requests import AuthorityRequest, load_request
from transforms.signing import KeyPair, load_or_create_keys
from transforms.warehouse import connect, query_model, run_folder, run_model, transaction

log = logging.getLogger(__name__)

_NUMBERS_VIEW = "pkg_numbers"
_STAND_IN_DAY = "1970-01-01"


class RequestNotAnswerable(ValueError):
    """A request that cannot be packaged as asked: not in the warehouse (and could not be landed), or a
    run date before the request was received (the package would predate the question)."""


@dataclass
class PackagingResult:
    """What a packaging pass did; ``failures`` name the request and why (the other requests still ran)."""

    paths: list[Path] = field(default_factory=list)
    answered: list[str] = field(default_factory=list)  # request ids with at least one package
    not_held: list[str] = field(default_factory=list)  # request ids no configured carrier holds a number of
    failures: list[str] = field(default_factory=list)
    key_message: str | None = None
    key_created: bool = False


@dataclass(frozen=True)
class Period:
    """The days a package covers: the request's period, cut at the run date (later data is not complete)."""

    first: date
    last: date

    def days(self, before: int = 0) -> list[date]:
        start = self.first - timedelta(days=before)
        return [start + timedelta(days=d) for d in range((self.last - start).days + 1)]


def request_from_json(text: str, source: str, timezone: str) -> AuthorityRequest:
    """Re-validate a landed request from its stored text (the schema may have tightened since it landed)."""
    try:
        request = AuthorityRequest.model_validate(json.loads(text), context={"timezone": timezone})
    except (ValueError, ValidationError) as exc:
        raise InputError(Path(source), f"stored request no longer validates: {exc}") from exc
    request._raw_json = text
    return request


def package_period(request: AuthorityRequest, run_date: date, settings: Settings) -> Period:
    """A request without a period gets the feature window ending on the run date (what the flags saw)."""
    if request.period is None:
        return Period(run_date - timedelta(days=settings.run.windows.feature_days - 1), run_date)
    return Period(request.period.from_, min(request.period.to, run_date))


def data_cutoff(run_date: date, timezone: str, generated_at: datetime) -> datetime:
    """Rows received from this instant on are left out: a package generated at the end of its run date
    (the default) covers the whole day; one answered during the day (the hourly intake, ``subflag
    package`` without a date) covers what had been received when it was generated."""
    if generated_at < generation_time(run_date, timezone):
        return generated_at
    return datetime.combine(run_date + timedelta(days=1), time(0), tzinfo=ZoneInfo(timezone))


def plan_holders(con: duckdb.DuckDBPyConnection, request_id: str, source_sha256: str, run_date: date, period: Period) -> pl.DataFrame:
    """One row per distinct requested number: its current carrier and its holder (NULL: nobody)."""
    return query_model(con, "packages/request_numbers", {
        "request_id": request_id, "source_sha256": source_sha256, "as_of": run_date, "period_from": period.first,
    })


def _stand_in(folder: Path, tree: str, schema: dict[str, pl.DataType]) -> str:
    """A zero-row file in hive layout for an empty file list (read_parquet refuses an empty list)."""
    path = folder / tree / "carrier=_" / f"day={_STAND_IN_DAY}" / "bucket=0" / "empty.parquet"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(schema=schema).write_parquet(path)
    return str(path)


@dataclass(frozen=True)
class LakeFiles:
    history: list[str]   # the numbers' buckets, history window + period
    inbound: list[str]   # callee-bucketed projection, the numbers' buckets, period
    outgoing: list[str]  # the numbers' buckets, period
    every: list[str]     # all buckets, period (incoming raw records)


def lake_files(lake: Path, settings: Settings, carrier: str, numbers: pl.Series, period: Period, fields: set[str]) -> LakeFiles:
    """Only the partitions that can hold the numbers' rows: their caller buckets, the period's days."""
    if not cdr_root(lake).is_dir() or not fields & {"cdr_summary", "cdr_records"}:
        return LakeFiles([], [], [], [])
    buckets = sorted(set((numbers % lake_layout(lake, settings, create=False).buckets).to_list()))
    history_days = period.days(before=settings.run.windows.history_days)
    days = period.days()

    def files(root: Path, span: list[date]) -> list[str]:
        return [f for k in buckets for f in partition_files(root, carrier, span, k)]

    return LakeFiles(
        history=files(cdr_root(lake), history_days) if "cdr_summary" in fields else [],
        inbound=files(inbound_root(lake), days) if "cdr_summary" in fields else [],
        outgoing=files(cdr_root(lake), days) if "cdr_records" in fields else [],
        every=partition_files(cdr_root(lake), carrier, days) if "cdr_records" in fields else [],
    )


def _local_times(frame: pl.DataFrame, timezone: str) -> pl.DataFrame:
    """Instants as the authority's local time with its offset (the warehouse keeps UTC)."""
    aware = [c for c, t in frame.schema.items() if isinstance(t, pl.Datetime) and t.time_zone is not None]
    return frame.with_columns(pl.col(aware).dt.convert_time_zone(timezone)) if aware else frame


def cdr_params(settings: Settings, period: Period) -> dict[str, Any]:
    c = settings.run.cdr
    return {
        "period_from": period.first,
        "period_to": period.last,
        "history_from": period.first - timedelta(days=settings.run.windows.history_days),
        "history_days": settings.run.windows.history_days,
        "short_call_seconds": c.short_call_seconds,
        "night_start": c.night_start_hour,
        "night_end": c.night_end_hour,
        "burst_us": c.burst_window_minutes * 60 * 1_000_000,
        "short_gap_us": c.short_gap_seconds * 1_000_000,
    }


def select_frames(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    request: AuthorityRequest,
    carrier: str,
    held: pl.DataFrame,
    *,
    run_date: date,
    period: Period,
    lake: Path,
    cutoff: datetime,
    scratch: Path,
) -> PackageFrames:
    """The requested files' rows for the numbers ``held`` (columns e164_int, prefix_carrier) by ``carrier``.

    A field the request did not ask for is never queried, so e.g. a complaints-only request never reads
    the registry at all.
    """
    fields = {str(f) for f in request.fields}
    tz = settings.run.timezone
    frames: dict[str, pl.DataFrame] = {}
    con.register(_NUMBERS_VIEW, held.select(pl.col("e164_int").cast(pl.Int64), pl.col("prefix_carrier").cast(pl.String)))
    try:
        if "subscriber" in fields:
            frames["subscribers"] = query_model(con, "packages/subscribers", {
                "carrier": carrier, "period_from": period.first, "period_to": period.last, "as_of": run_date,
            })
        if "complaints" in fields:
            frames["complaints"] = query_model(con, "packages/complaints", {
                "period_from": period.first, "period_to": period.last, "tz": tz, "cutoff": cutoff,
            })
        files = lake_files(lake, settings, carrier, held["e164_int"], period, fields)
        lake_stand_in = _stand_in(scratch, "cdr", LAKE_SCHEMA)
        params = {**cdr_params(settings, period), "carrier": carrier}
        if "cdr_summary" in fields:
            frames["cdr_summary"] = query_model(con, "packages/cdr_summary", {
                **params,
                "files": files.history or [lake_stand_in],
                "inbound_files": files.inbound or [_stand_in(scratch, "inbound", {"b_number": pl.Int64, "event_type": pl.String})],
            })
        if "cdr_records" in fields:
            frames["cdr_records"] = query_model(con, "packages/cdr_records", {
                **params, "out_files": files.outgoing or [lake_stand_in], "all_files": files.every or [lake_stand_in],
            })
    finally:
        con.unregister(_NUMBERS_VIEW)
    return PackageFrames(**{name: _local_times(frame, tz) for name, frame in frames.items()})


def _carrier(settings: Settings, slug: str) -> Carrier:
    for c in settings.carriers:
        if c.slug == slug:
            return c
    raise PackageContentError(f"holder {slug!r} is not a carrier in {settings.config_dir / 'carriers.toml'}")


def record_package(
    con: duckdb.DuckDBPyConnection,
    *,
    request_id: str,
    source_sha256: str,
    run_date: date,
    run_id: str,
    carrier: str | None,
    path: Path | None,
    numbers_held: int,
    generated_at: datetime,
) -> None:
    with transaction(con):
        run_model(con, "packages/record_package", {
            "request_id": request_id, "source_sha256": source_sha256, "run_date": run_date, "carrier": carrier,
            "package_path": str(path) if path else None,
            "package_sha256": hashlib.sha256(path.read_bytes()).hexdigest() if path else None,
            "numbers_held": numbers_held, "generated_at": generated_at, "built_at": datetime.now(UTC), "run_id": run_id,
        })


def package_request(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    request: AuthorityRequest,
    source_sha256: str,
    *,
    run_date: date,
    run_id: str,
    out: Path,
    lake: Path,
    keys: KeyPair,
    generated_at: datetime | None = None,
    scratch: Path,
) -> list[Path]:
    """One zip per holding carrier (none when nobody holds a number; that outcome is recorded too)."""
    tz = settings.run.timezone
    when = (generated_at or generation_time(run_date, tz)).astimezone(ZoneInfo(tz))
    period = package_period(request, run_date, settings)
    plan = plan_holders(con, request.request_id, source_sha256, run_date, period)
    held = plan.filter(pl.col("holder").is_not_null())
    not_found = plan.filter(pl.col("holder").is_null())["number"].to_list()
    holders = sorted(set(held["holder"].to_list()))
    if not holders:
        record_package(con, request_id=request.request_id, source_sha256=source_sha256, run_date=run_date,
                       run_id=run_id, carrier=None, path=None, numbers_held=0, generated_at=when)
        return []
    dir_mode, file_mode = int(settings.run.output.dir_mode, 8), int(settings.run.output.file_mode, 8)
    cutoff = data_cutoff(run_date, tz, when)
    paths: list[Path] = []
    for slug in holders:
        mine = held.filter(pl.col("holder") == slug)
        elsewhere = dict(held.filter(pl.col("holder") != slug).select("number", "holder").iter_rows())
        frames = select_frames(con, settings, request, slug, mine, run_date=run_date, period=period, lake=lake,
                               cutoff=cutoff, scratch=scratch)
        path = build_package(
            request, _carrier(settings, slug), frames, run_id=run_id, run_date=run_date,
            profile=settings.profile.name, out_dir=out, private_key=keys.private_path,
            numbers_not_found=not_found, numbers_elsewhere=elsewhere, other_carriers=settings.carriers,
            timezone=tz, generated_at=when, dir_mode=dir_mode, file_mode=file_mode,
        )
        kill_point("packages.record")  # the zip is in place, its request_packages row is not
        record_package(con, request_id=request.request_id, source_sha256=source_sha256, run_date=run_date,
                       run_id=run_id, carrier=slug, path=path, numbers_held=mine.height, generated_at=when)
        paths.append(path)
    return paths


def package_requests(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    run_date: date,
    run_id: str,
    out: Path,
    lake: Path,
    *,
    only: Sequence[str] = (),
    generated_at: datetime | None = None,
    keys_dir: Path | None = None,
) -> PackagingResult:
    """Answer the requests of this run (``packages/requests_to_package``), or exactly the deliveries ``only``.

    Needs the schema and views (``request_packages`` is created by ``sql/views/v_requests.sql``). A request
    that cannot be packaged (e.g. its id's file name is taken by another request) is reported in
    ``failures`` and the others still run; a broken signing key stops the pass.
    """
    tz = settings.run.timezone
    todo = query_model(con, "packages/requests_to_package", {
        "run_date": run_date, "run_id": run_id, "tz": tz, "only": list(only),
    })
    result = PackagingResult()
    if only and todo.height < len(set(only)):
        missing = sorted(set(only) - set(todo["source_sha256"].to_list()))
        raise RequestNotAnswerable(f"request deliveries {missing} are not in stg_requests (landed as failed? see ingest_log)")
    keys: KeyPair | None = None
    with tempfile.TemporaryDirectory(prefix="subflag-packages-") as scratch:
        for row in todo.iter_rows(named=True):
            request_id = row["request_id"]
            try:
                request = request_from_json(row["raw_json"], row["source_file"], tz)
                if keys is None:
                    keys = load_or_create_keys(keys_dir or settings.run.paths.signing_keys)
                    result.key_message, result.key_created = keys.message, keys.created
                paths = package_request(con, settings, request, row["source_sha256"], run_date=run_date, run_id=run_id,
                                        out=out, lake=lake, keys=keys, generated_at=generated_at, scratch=Path(scratch))
            except (PackagePathError, PackageContentError, InputError) as exc:
                result.failures.append(f"request {request_id!r} ({row['source_file']}): {exc}")
                log.error("request %r not packaged: %s", request_id, exc)
                continue
            result.paths += paths
            (result.answered if paths else result.not_held).append(request_id)
    return result


def answer_request_file(
    settings: Settings,
    request_file: Path,
    *,
    run_date: date,
    warehouse: Path,
    lake: Path,
    out: Path,
    generated_at: datetime | None = None,
    default_generated_at: datetime | None = None,
    keys_dir: Path | None = None,
) -> PackagingResult:
    """``subflag package``: land the file if the warehouse has not seen it, then package that delivery.

    A delivery already packaged for ``run_date`` is rebuilt with its recorded run id and generation time,
    so the result can be compared byte for byte with what was sent. Otherwise it states
    ``default_generated_at`` (None: the end of the run date). ``generated_at`` overrides both.
    """
    request_file = Path(request_file)
    request = load_request(request_file, settings.run.timezone)  # a bad file fails here, naming file and field
    received = request.received_at.astimezone(ZoneInfo(settings.run.timezone)).date()
    if run_date < received:
        raise RequestNotAnswerable(
            f"{request_file}: request {request.request_id!r} was received on {received}; a package dated {run_date} "
            "would predate it (pass --date on or after the day it was received)"
        )
    sha = sha256_of(request_file)
    with connect(warehouse, settings.run.duckdb) as con:
        run_folder(con, "schema")
        run_folder(con, "views")
        known = known_hashes(con)
        if sha not in known:
            land_id = derive_run_id(run_date, known | {sha}, settings.digest)
            ctx = IngestContext(settings, NumberingTables.from_settings(settings), land_id, lake)
            from transforms.landing import LANDERS

            delivery = Delivery(request_file, "requests", None, sha, request_file.stat().st_size)
            landed = land_delivery(con, delivery, ctx, LANDERS)
            if landed.status != "loaded":
                raise RequestNotAnswerable(f"{request_file}: could not be landed: {landed.error}")
        recorded = query_model(con, "packages/recorded_package", {"source_sha256": sha, "run_date": run_date})
        if recorded.height:
            run_id, when = recorded["run_id"][0], recorded["generated_at"][0]
        else:
            run_id, when = derive_run_id(run_date, known_hashes(con), settings.digest), default_generated_at
        return package_requests(con, settings, run_date, run_id, out, lake, only=[sha],
                                generated_at=generated_at or when, keys_dir=keys_dir)
