"""Timestamps: the forms exporters write, local-time default, and null (not a crash) for anything else."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import polars as pl
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from transforms.timestamps import UTC_DTYPE, parse_timestamps

FUZZ = int(os.environ.get("SUBFLAG_FUZZ_EXAMPLES", "0"))
HCM = "Asia/Ho_Chi_Minh"
UTC = timezone.utc

CASES = [
    ("2024-03-05 09:15:00", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("2024-03-05T09:15:00+07:00", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("2024-03-05T02:15:00Z", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("05/03/2024 09:15", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("05/03/2024 09:15:30", datetime(2024, 3, 5, 2, 15, 30, tzinfo=UTC)),
    ("2024-03-05 09:15", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    (" 2024-03-05T09:15:00.123+0700 ", datetime(2024, 3, 5, 2, 15, 0, 123000, tzinfo=UTC)),
    ("2024-03-05 02:15:00.000000+00:00", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("2024-03-05 09:15:00+07", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("2024-03-05T09:15:00-05:30", datetime(2024, 3, 5, 14, 45, tzinfo=UTC)),
    ("2024-03-05 09:15:00 UTC", datetime(2024, 3, 5, 9, 15, tzinfo=UTC)),
    ("2024/03/05 09:15", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("5/3/2024 7:05", datetime(2024, 3, 5, 0, 5, tzinfo=UTC)),
    ("05.03.2024 09:15", datetime(2024, 3, 5, 2, 15, tzinfo=UTC)),
    ("2024-03-05", datetime(2024, 3, 4, 17, 0, tzinfo=UTC)),
    ("31/12/2023 23:59:59", datetime(2023, 12, 31, 16, 59, 59, tzinfo=UTC)),
    ("01/01/2024 03:00", datetime(2023, 12, 31, 20, 0, tzinfo=UTC)),
    ("2024-03-05T09:15:00,5Z", datetime(2024, 3, 5, 9, 15, 0, 500000, tzinfo=UTC)),
    # not accepted → null
    ("2024-02-30 10:00", None),
    ("2024-03-05 24:00", None),
    ("2024-03-05 09:15:61", None),
    ("05/03/2024 9:15 AM", None),
    ("03/13/2024 09:15", None),
    ("2024-03-05T09:15:00+25:00", None),
    ("09:15", None),
    ("abc", None),
    ("", None),
    (None, None),
    ("1709630100", None),
    ("2024-03-05 09:15:00; DROP TABLE x", None),
]


def test_accepted_forms_and_nulls() -> None:
    values = pl.Series("t", [c for c, _ in CASES], dtype=pl.String)
    got = parse_timestamps(values, HCM)
    assert got.dtype == UTC_DTYPE
    assert got.name == "t"
    assert list(zip([c for c, _ in CASES], got.to_list())) == CASES


def test_fast_and_regex_paths_keep_row_order() -> None:
    values = pl.Series(["2024-03-05 09:15:00", "05/03/2024 09:16", None, "2024-03-05 09:17:00", "bad", "2024-03-05T02:18:00Z"])
    got = parse_timestamps(values, HCM).dt.minute().to_list()
    assert got == [15, 16, None, 17, None, 18]


def test_naive_values_follow_the_configured_zone() -> None:
    values = pl.Series(["2024-03-05 09:15:00", "2024-03-05T09:15:00+07:00"])
    assert parse_timestamps(values, "UTC").to_list() == [
        datetime(2024, 3, 5, 9, 15, tzinfo=UTC),
        datetime(2024, 3, 5, 2, 15, tzinfo=UTC),
    ]


def test_dst_gap_in_a_dst_zone_is_null_not_a_crash() -> None:
    got = parse_timestamps(pl.Series(["2024-03-10 02:30:00", "2024-11-03 01:30:00"]), "America/New_York").to_list()
    assert got[0] is None
    assert got[1] == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "fmt",
    ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S+07:00", "%d/%m/%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"],
)
@hsettings(max_examples=FUZZ or 100, deadline=None)
@given(moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)))
def test_round_trip_of_formatted_local_times(fmt: str, moment: datetime) -> None:
    if "%f" not in fmt:
        moment = moment.replace(microsecond=0)
    text = moment.strftime(fmt)
    expected = (moment - timedelta(hours=7)).replace(tzinfo=UTC)
    assert parse_timestamps(pl.Series([text]), HCM).to_list() == [expected]


@hsettings(max_examples=FUZZ or 300, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=40), st.from_regex(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}( \d{1,2}:\d{2}(:\d{2})?)?.{0,6}")), max_size=30))
def test_never_raises(values: list[str]) -> None:
    got = parse_timestamps(pl.Series(values, dtype=pl.String), HCM)
    assert len(got) == len(values) and got.dtype == UTC_DTYPE
