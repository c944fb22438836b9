"""Written requests from authorities (``requests/*.json``): validated, and their id made safe for paths.

A request decides what a package may contain and, for ``suspend``, puts numbers on the two-way-block
list at once — so it is checked against a strict schema, and a file that does not fit is refused with
the validator's message rather than half-used. ``request_id`` is free text from another organisation
("432/STTTT-TTra"); it becomes a folder name only through :func:`slugify_request_id`.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, ValidationInfo, field_validator, model_validator

from transforms.numbers import NumberingTables, normalise_numbers
from transforms.readers import InputError, decode_bytes

MAX_REQUEST_BYTES = 1 << 20
SLUG_MAX = 100
PackageField = Literal["subscriber", "complaints", "cdr_summary", "cdr_records"]
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def slugify_request_id(request_id: str) -> str:
    """A folder-safe name for a request id: ``432/STTTT-TTra`` → ``432-STTTT-TTra``.

    Letters lose their diacritics, anything but ``[A-Za-z0-9._-]`` becomes ``-``, runs of separators
    collapse to one ``-`` (so no ``..``), and separators are trimmed from both ends (so no leading
    ``.``). Ids longer than 100 characters keep a prefix and a hash of the whole id. Ids with control
    characters, or with nothing usable in them, raise ``ValueError``: they are malformed, not exotic.
    Different ids can share a slug (``432/A`` and ``432-A``); the caller must check before writing.
    """
    if not isinstance(request_id, str):
        raise ValueError("request_id must be text")
    if any(unicodedata.category(ch) == "Cc" for ch in request_id):
        raise ValueError("request_id contains control characters")
    text = unicodedata.normalize("NFKD", request_id.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", text)
    slug = re.sub(r"[-._]{2,}", "-", slug).strip("-._")
    if not slug:
        raise ValueError(f"request_id {request_id!r} has no letters or digits to name a folder by")
    if len(slug) > SLUG_MAX:
        digest = hashlib.sha256(request_id.encode("utf-8")).hexdigest()[:12]
        slug = slug[: SLUG_MAX - len(digest) - 1].rstrip("-._") + "-" + digest
    if slug.split(".")[0].upper() in _RESERVED:
        slug = "req-" + slug
    return slug


class Period(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.from_ > self.to:
            raise ValueError(f"period.from ({self.from_}) is after period.to ({self.to})")
        return self


class AuthorityRequest(BaseModel):
    """One authority request (DESIGN §4). Naive timestamps are local time (validation context ``timezone``)."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    request_id: str = Field(min_length=1, max_length=300)
    authority: str = Field(min_length=1, max_length=500)
    received_at: datetime
    due_at: datetime | None = None
    legal_basis: str = Field(min_length=1, max_length=500)
    requested_action: Literal["information", "suspend"]
    numbers: list[str] = Field(min_length=1, max_length=10_000)
    fields: list[PackageField] = Field(min_length=1)
    period: Period | None = None
    _raw_json: str | None = PrivateAttr(default=None)

    @field_validator("request_id")
    @classmethod
    def _sluggable(cls, v: str) -> str:
        slugify_request_id(v)
        return v

    @field_validator("received_at", "due_at")
    @classmethod
    def _aware(cls, v: datetime | None, info: ValidationInfo) -> datetime | None:
        if v is None or v.tzinfo is not None:
            return v
        tz = (info.context or {}).get("timezone", "Asia/Ho_Chi_Minh")
        return v.replace(tzinfo=ZoneInfo(tz))

    @field_validator("numbers")
    @classmethod
    def _numbers(cls, v: list[str]) -> list[str]:
        empty = [i for i, n in enumerate(v) if not n.strip()]
        if empty:
            raise ValueError(f"numbers[{empty[0]}] is empty")
        return v

    @field_validator("fields")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("fields must not repeat")
        return v

    @model_validator(mode="after")
    def _due_after_received(self) -> "AuthorityRequest":
        if self.due_at is not None and self.due_at < self.received_at:
            raise ValueError(f"due_at ({self.due_at.isoformat()}) is before received_at ({self.received_at.isoformat()})")
        return self

    @property
    def slug(self) -> str:
        return slugify_request_id(self.request_id)

    @property
    def raw_json(self) -> str:
        return self._raw_json if self._raw_json is not None else self.model_dump_json(by_alias=True)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise ValueError(f"key {dup[0]!r} appears more than once")
    return dict(pairs)


def _describe(err: ValidationError) -> str:
    parts = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        got = e.get("input")
        shown = repr(got) if not isinstance(got, (dict, list)) else type(got).__name__
        parts.append(f"{where}: {e['msg']} (got {shown[:120]})")
    return "invalid request: " + "; ".join(parts)


def load_request(path: Path, timezone: str = "Asia/Ho_Chi_Minh") -> AuthorityRequest:
    """Read and validate one request file; any problem is an :class:`InputError` naming the file and field."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_REQUEST_BYTES + 1)
    except OSError as exc:
        raise InputError(path, f"cannot read file: {exc}") from exc
    if len(data) > MAX_REQUEST_BYTES:
        raise InputError(path, f"a request file is at most {MAX_REQUEST_BYTES} bytes")
    text, _, damaged = decode_bytes(data, path, legacy="refuse")
    if damaged:
        raise InputError(path, "file is not valid UTF-8; re-export it as UTF-8")
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno) from exc
    except ValueError as exc:
        raise InputError(path, f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise InputError(path, f"expected one JSON object (the request), got {type(doc).__name__}")
    try:
        request = AuthorityRequest.model_validate(doc, context={"timezone": timezone})
    except ValidationError as exc:
        raise InputError(path, _describe(exc)) from exc
    request._raw_json = text
    return request


def _utc_series(value: datetime | None) -> pl.Series:
    utc = pl.Datetime("us", "UTC")
    if value is None:
        return pl.Series([None], dtype=utc)
    return pl.Series([value]).dt.convert_time_zone("UTC").cast(utc)


def request_frames(request: AuthorityRequest, path: Path | str, tables: NumberingTables) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(one-row header, one row per named number, normalised) in the layout staging expects."""
    header = pl.DataFrame(
        {
            "request_id": [request.request_id],
            "request_slug": [request.slug],
            "authority": [request.authority],
            "received_at": _utc_series(request.received_at),
            "due_at": _utc_series(request.due_at),
            "legal_basis": [request.legal_basis],
            "requested_action": [request.requested_action],
            "fields": pl.Series([list(request.fields)], dtype=pl.List(pl.String)),
            "period_from": pl.Series([request.period.from_ if request.period else None], dtype=pl.Date),
            "period_to": pl.Series([request.period.to if request.period else None], dtype=pl.Date),
            "raw_json": [request.raw_json],
            "source_file": [str(path)],
        }
    )
    raw = pl.DataFrame({"number_raw": pl.Series(request.numbers, dtype=pl.String)}).unique(maintain_order=True)
    numbers = normalise_numbers(raw, "number_raw", tables, prefix="").select(
        pl.lit(request.request_id).alias("request_id"),
        "number_raw",
        "e164",
        "e164_int",
        "national",
        "kind",
        pl.col("carrier").alias("prefix_carrier"),
        "protected",
    )
    return header, numbers
