"""Authority requests: schema validation with the validator's message, and path-safe request ids."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, strategies as st

from tests.fuzzing import fuzz_settings
from transforms.numbers import NumberingTables
from transforms.readers import InputError
from transforms.requests import AuthorityRequest, load_request, request_frames, slugify_request_id

EXAMPLE = {
    "request_id": "432/STTTT-TTra",
    "authority": "Sở Thông tin và Truyền thông TP. Cần Thơ",
    "received_at": "2024-03-05T09:00:00+07:00",
    "due_at": "2024-03-07T17:00:00+07:00",
    "legal_basis": "Nghị định 49/2017/NĐ-CP",
    "requested_action": "information",
    "numbers": ["0912345678", "+84 98 765 4321"],
    "fields": ["subscriber", "complaints", "cdr_summary"],
    "period": {"from": "2024-02-01", "to": "2024-03-05"},
}


def _write(tmp_path: Path, doc, name: str = "r.json", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    text = doc if isinstance(doc, str) else json.dumps(doc, ensure_ascii=False)
    path.write_bytes(text.encode(encoding))
    return path


def test_design_example_loads(tmp_path: Path) -> None:
    req = load_request(_write(tmp_path, EXAMPLE))
    assert req.request_id == "432/STTTT-TTra"
    assert req.slug == "432-STTTT-TTra"
    assert req.received_at == datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)
    assert req.due_at == datetime(2024, 3, 7, 10, 0, tzinfo=timezone.utc)
    assert req.requested_action == "information"
    assert req.fields == ["subscriber", "complaints", "cdr_summary"]
    assert (req.period.from_, req.period.to) == (date(2024, 2, 1), date(2024, 3, 5))
    assert json.loads(req.raw_json) == EXAMPLE


def test_utf16_and_bom_files_load(tmp_path: Path) -> None:
    assert load_request(_write(tmp_path, EXAMPLE, encoding="utf-16")).authority == EXAMPLE["authority"]
    assert load_request(_write(tmp_path, EXAMPLE, encoding="utf-8-sig")).authority == EXAMPLE["authority"]


def test_naive_times_are_local_and_optional_parts_may_be_absent(tmp_path: Path) -> None:
    doc = {k: v for k, v in EXAMPLE.items() if k not in ("due_at", "period")} | {"received_at": "2024-03-05T09:00:00"}
    req = load_request(_write(tmp_path, doc))
    assert req.received_at == datetime(2024, 3, 5, 2, 0, tzinfo=timezone.utc)
    assert req.due_at is None and req.period is None
    assert load_request(_write(tmp_path, doc), timezone="UTC").received_at == datetime(2024, 3, 5, 9, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"requested_action": "delete"}, "requested_action: Input should be 'information' or 'suspend'"),
        ({"fields": ["subscriber", "passwords"]}, "fields.1: Input should be 'subscriber', 'complaints', 'cdr_summary' or 'cdr_records'"),
        ({"fields": []}, "fields: List should have at least 1 item"),
        ({"fields": ["subscriber", "subscriber"]}, "fields: Value error, fields must not repeat"),
        ({"numbers": []}, "numbers: List should have at least 1 item"),
        ({"numbers": [912345678]}, "numbers.0: Input should be a valid string"),
        ({"numbers": ["0912345678", "  "]}, "numbers: Value error, numbers[1] is empty"),
        ({"received_at": "hôm qua"}, "received_at: Input should be a valid datetime"),
        ({"due_at": "2024-03-01T00:00:00+07:00"}, "due_at (2024-03-01T00:00:00+07:00) is before received_at"),
        ({"period": {"from": "2024-03-05", "to": "2024-02-01"}}, "period.from (2024-03-05) is after period.to (2024-02-01)"),
        ({"period": {"from": "2024-03-05"}}, "period.to: Field required"),
        ({"request_id": ""}, "request_id: String should have at least 1 character"),
        ({"request_id": "a\u0000b"}, "request_id: Value error, request_id contains control characters"),
        ({"request_id": "../.."}, "request_id: Value error, request_id '../..' has no letters or digits"),
        ({"authority": None}, "authority: Input should be a valid string"),
        ({"extra": 1}, "extra: Extra inputs are not permitted"),
    ],
)
def test_invalid_requests_name_the_field(tmp_path: Path, change: dict, message: str) -> None:
    path = _write(tmp_path, EXAMPLE | change)
    with pytest.raises(InputError) as err:
        load_request(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_fields_are_listed(tmp_path: Path) -> None:
    doc = {k: v for k, v in EXAMPLE.items() if k not in ("legal_basis", "numbers")}
    with pytest.raises(InputError) as err:
        load_request(_write(tmp_path, doc))
    assert "legal_basis: Field required" in str(err.value) and "numbers: Field required" in str(err.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"request_id": "1",\n "authority": }', "not valid JSON: Expecting value (column 15)"),
        ("[1, 2]", "expected one JSON object (the request), got list"),
        ('{"request_id": "1", "request_id": "2"}', "key 'request_id' appears more than once"),
        ("", "not valid JSON"),
    ],
)
def test_unreadable_json(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InputError) as err:
        load_request(_write(tmp_path, text))
    assert message in str(err.value)


def test_oversized_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="at most"):
        load_request(_write(tmp_path, " " * (1 << 20) + "{}"))
    with pytest.raises(InputError, match="cannot read"):
        load_request(tmp_path / "absent.json")


@pytest.mark.parametrize(
    ("request_id", "slug"),
    [
        ("432/STTTT-TTra", "432-STTTT-TTra"),
        ("439/STTTT-BCVT", "439-STTTT-BCVT"),
        ("Số 12/CV-CSHS (PA05)", "So-12-CV-CSHS-PA05"),
        ("../../etc/x", "etc-x"),
        ("..\\x", "x"),
        ("/abs", "abs"),
        ("C:\\Windows\\x", "C-Windows-x"),
        (".hidden", "hidden"),
        ("a..b", "a-b"),
        ("v1.2", "v1.2"),
        ("NUL", "req-NUL"),
        ("con.txt", "req-con.txt"),
        ("  spaced  id  ", "spaced-id"),
        ("ĐẶC BIỆT", "DAC-BIET"),
    ],
)
def test_slugs(request_id: str, slug: str) -> None:
    assert slugify_request_id(request_id) == slug


@pytest.mark.parametrize("request_id", ["", "   ", "../..", "/", "\\", "a\x00b", "a\nb", "\u202e", "..."])
def test_unusable_ids_raise(request_id: str) -> None:
    with pytest.raises(ValueError):
        slugify_request_id(request_id)


def test_long_ids_are_cut_and_stay_distinct() -> None:
    a, b = "x" * 299 + "a", "x" * 299 + "b"
    sa, sb = slugify_request_id(a), slugify_request_id(b)
    assert len(sa) <= 100 and len(sb) <= 100 and sa != sb


@fuzz_settings(500)
@given(st.text(max_size=300))
def test_any_slug_is_a_safe_single_path_component(request_id: str) -> None:
    try:
        slug = slugify_request_id(request_id)
    except ValueError:
        return
    assert 0 < len(slug) <= 100
    assert "/" not in slug and "\\" not in slug and ".." not in slug and "\x00" not in slug
    assert not slug.startswith((".", "-"))
    assert all(ch.isascii() and (ch.isalnum() or ch in "._-") for ch in slug)
    assert Path(slug).name == slug and not Path(slug).is_absolute()


def test_request_frames(tmp_path: Path, settings) -> None:
    path = _write(tmp_path, EXAMPLE | {"numbers": ["0912345678", "+84 98 765 4321", "0912345678", "12"]})
    req = load_request(path)
    header, numbers = request_frames(req, path, NumberingTables.from_settings(settings))
    assert header.schema["received_at"] == pl.Datetime("us", "UTC")
    assert header.schema["fields"] == pl.List(pl.String)
    assert header.schema["period_from"] == pl.Date
    row = header.row(0, named=True)
    assert (row["request_id"], row["request_slug"], row["requested_action"]) == ("432/STTTT-TTra", "432-STTTT-TTra", "information")
    assert row["source_file"] == str(path) and row["raw_json"] == path.read_text(encoding="utf-8")
    assert numbers.select("number_raw", "e164", "national", pl.col("kind").cast(pl.String), "prefix_carrier").rows() == [
        ("0912345678", "+84912345678", "0912345678", "mobile", "vinaphone"),
        ("+84 98 765 4321", "+84987654321", "0987654321", "mobile", "viettel"),
        ("12", None, None, "invalid", None),
    ]
    assert numbers["request_id"].unique().to_list() == ["432/STTTT-TTra"]


def test_model_is_strict_and_frozen() -> None:
    req = AuthorityRequest.model_validate(EXAMPLE)
    with pytest.raises(Exception):
        req.request_id = "other"  # type: ignore[misc]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)


@fuzz_settings(200)
@given(doc=st.one_of(_json, st.fixed_dictionaries({k: _json for k in EXAMPLE}), st.binary(max_size=60)))
def test_any_file_loads_or_raises_input_error(tmp_path: Path, doc) -> None:
    path = tmp_path / "any.json"
    path.write_bytes(doc if isinstance(doc, bytes) else json.dumps(doc).encode())
    try:
        req = load_request(path)
    except InputError as exc:
        assert str(path) in str(exc)
        return
    assert req.slug and req.numbers and req.fields
