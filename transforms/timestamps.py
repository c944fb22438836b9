"""Timestamps as exporting systems write them → UTC instants, over whole columns.

Exporters disagree: ISO-8601 with or without an offset, a space instead of ``T``, the Vietnamese
day-first ``05/03/2024 09:15``, seconds or not. A naive value is local time in the configured zone
(§4: ``Asia/Ho_Chi_Minh``). Anything else — US month-first with AM/PM, a bare time, an impossible date —
yields null so the caller can reject the row with ``bad_timestamp`` instead of guessing.
"""

from __future__ import annotations

import polars as pl

UTC_DTYPE = pl.Datetime("us", "UTC")

_TIME = r"(?:[T ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
_OFFSET = r"\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
# Year first: 2024-03-05, 2024/03/05 (with an optional time and offset).
_YMD = r"(?i)^(\d{4})[-/](\d{1,2})[-/](\d{1,2})" + _TIME + _OFFSET + "$"
# Day first (Vietnamese order): 05/03/2024, 5-3-2024, 05.03.2024.
_DMY = r"(?i)^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})" + _TIME + _OFFSET + "$"


def _from_fields(g: pl.Expr, order: tuple[int, int, int]) -> list[pl.Expr]:
    y, m, d = order
    return [g.struct.field(str(i)) for i in (y, m, d, 4, 5, 6, 7, 8)]


def _parse_loose(text: pl.Series, timezone: str) -> pl.Series:
    """Every accepted form, by regex; two extractions per value, so only for what the fast path missed."""
    frame = pl.DataFrame({"t": text}).with_columns(
        ymd=pl.col("t").str.extract_groups(_YMD), dmy=pl.col("t").str.extract_groups(_DMY)
    )
    parts = zip(_from_fields(pl.col("ymd"), (1, 2, 3)), _from_fields(pl.col("dmy"), (3, 2, 1)))
    year, month, day, hour, minute, second, frac, offset = (pl.coalesce(a, b) for a, b in parts)

    canonical = pl.concat_str(
        [
            year, pl.lit("-"), month.str.zfill(2), pl.lit("-"), day.str.zfill(2), pl.lit(" "),
            hour.fill_null("0").str.zfill(2), pl.lit(":"), minute.fill_null("00"), pl.lit(":"),
            second.fill_null("00"),
        ]
    )
    naive = canonical.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    micros = (frac.fill_null("") + pl.lit("000000")).str.slice(0, 6).cast(pl.Int64)
    naive = naive + pl.duration(microseconds=micros)

    off = offset.str.to_uppercase()
    digits = off.str.replace_all(r"[^0-9]", "")
    signed = (
        digits.str.slice(0, 2).cast(pl.Int64) * 60 + digits.str.slice(2, 2).str.zfill(2).cast(pl.Int64)
    ) * pl.when(off.str.starts_with("-")).then(-1).otherwise(1)
    off_minutes = pl.when(off.is_in(["Z", "UTC", "GMT"])).then(0).otherwise(signed)

    with_offset = (naive - pl.duration(minutes=off_minutes)).dt.replace_time_zone("UTC")
    return frame.select(
        pl.when(offset.is_null())
        .then(_local_to_utc(naive, timezone))
        .when(off_minutes.abs() <= 14 * 60)
        .then(with_offset)
        .otherwise(None)
        .cast(UTC_DTYPE)
    ).to_series()


def _local_to_utc(naive: pl.Expr, timezone: str) -> pl.Expr:
    return naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null").dt.convert_time_zone("UTC")


def parse_timestamps(values: pl.Series, timezone: str) -> pl.Series:
    """Datetime("us", "UTC") values; null wherever the text is not one of the accepted forms.

    Most files use one machine format, so the common ``YYYY-MM-DD HH:MM:SS`` is tried first by a
    cheap exact parse and only the remaining values pay for the regex path.
    """
    text = values.cast(pl.String).str.strip_chars()
    frame = pl.DataFrame({"t": text}).with_columns(
        fast=_local_to_utc(pl.col("t").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False), timezone)
    )
    missed = frame["fast"].is_null() & frame["t"].is_not_null()
    if not missed.any():
        return frame["fast"].cast(UTC_DTYPE).alias(values.name)
    loose = _parse_loose(frame.filter(missed)["t"], timezone)
    filled = frame["fast"].cast(UTC_DTYPE).scatter(missed.arg_true(), loose)
    return filled.alias(values.name)
