"""Other-channel complaints: §4 columns, category synonyms, rejects, warning counts, row identity."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, strategies as st

from tests.fuzzing import fuzz_settings
from transforms.complaints import COMPLAINT_OPTIONAL, COMPLAINT_REQUIRED, map_categories, parse_complaints
from transforms.config import ConfigError, fold_label, validate_file, Categories
from transforms.numbers import NumberingTables
from transforms.readers import read_records
from transforms.sms5656 import fold_expr

HEADER = "complaint_id,received_at,channel,reported_number,category,reporter,description,occurred_at\n"


@pytest.fixture(scope="module")
def tables(settings) -> NumberingTables:
    return NumberingTables.from_settings(settings)


def _parse(tmp_path: Path, body: str, settings, tables, name: str = "c.csv"):
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    read = read_records(path, COMPLAINT_REQUIRED, COMPLAINT_OPTIONAL)
    return read, parse_complaints(read.records, tables, settings, "f" * 64)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Lừa đảo", "fraud"),
        ("lua dao", "fraud"),
        ("LỪA ĐẢO", "fraud"),
        ("lu\u0300a đa\u0309o", "fraud"),
        ("scam", "fraud"),
        ("Fraud", "fraud"),
        ("Giả danh", "impersonation"),
        ("mao danh", "impersonation"),
        ("impersonation", "impersonation"),
        ("Cuộc gọi rác", "spam_call"),
        ("SPAM_CALL", "spam_call"),
        ("spam-call", "spam_call"),
        ("spam call", "spam_call"),
        ("Tin nhắn rác", "spam_sms"),
        ("spam sms", "spam_sms"),
        ("Quấy rối", "harassment"),
        ("đe dọa", "harassment"),
        ("Khác", "other"),
        ("other", "other"),
        ("  Lừa   đảo  ", "fraud"),
        ("lừa đảo qua mạng", None),
        ("", None),
        (None, None),
    ],
)
def test_category_synonyms(settings, value, expected) -> None:
    frame = pl.DataFrame({"c": [value]}, schema={"c": pl.String})
    assert frame.select(map_categories(pl.col("c"), settings)).item() == expected


def test_accepted_rows_have_the_complaint_layout(tmp_path: Path, settings, tables) -> None:
    body = (
        'H-1,2024-03-05 09:15:00,Hotline,0812341213,Lừa đảo,0912345678,"Gọi giả danh, đòi chuyển tiền",2024-03-04 20:00\n'
        "H-2,05/03/2024 09:15,WEB,+84 812 341 213,SPAM_CALL,,,\n"
        'H-3,2024-03-05T09:15:00+07:00,app,VIETCOMBANK,tin nhan rac,,"=HYPERLINK(""x"")",\n'
        "H-4,2024-03-05 09:15:00,Police,0812341213,weird thing,,,\n"
    )
    read, parsed = _parse(tmp_path, body, settings, tables)
    c = parsed.complaints
    assert c.select("complaint_id", "channel", "reported_national", "reported_kind", "kind", "category", "content").rows() == [
        ("H-1", "hotline", "0812341213", "mobile", "call", "fraud", "Gọi giả danh, đòi chuyển tiền"),
        ("H-2", "web", "0812341213", "mobile", "call", "spam_call", None),
        ("H-3", "app", "VIETCOMBANK", "brandname", "sms", "spam_sms", '=HYPERLINK("x")'),
        ("H-4", "police", "0812341213", "mobile", "call", "other", None),
    ]
    assert [str(t) for t in c["received_at"]] == ["2024-03-05 02:15:00+00:00"] * 4
    assert str(c["occurred_at"][0]) == "2024-03-04 13:00:00+00:00" and c["occurred_at"][1:].null_count() == 3
    assert c["reporter_e164"].to_list() == ["+84912345678", None, None, None]
    assert c["reporter_carrier"][0] == "vinaphone"
    assert c["source_line"].to_list() == [2, 3, 4, 5]
    assert c.schema["received_at"] == pl.Datetime("us", "UTC")
    assert parsed.unknown_categories == 1
    assert parsed.invalid_reporters == 0
    assert read.rows_read == c.height + read.rejects.height + parsed.rejects.height


def test_rejects_with_reasons_in_priority_order(tmp_path: Path, settings, tables) -> None:
    body = (
        "H-1,2024-03-05 09:15,hotline,0812341213,fraud,,,\n"
        "H-1,2024-03-05 09:15,hotline,0812341213,fraud,,,\n"
        "H-5,yesterday,hotline,0812341213,fraud,,,\n"
        "H-6,2024-03-05 09:15,hotline,12,fraud,,,\n"
        ",2024-03-05 09:15,hotline,0812341213,fraud,,,\n"
        "H-7,2024-03-05 09:15,hotline,0812341213,fraud,,,31/02/2024 10:00\n"
        "H-8,2024-03-05 09:15,,0812341213,fraud,,,\n"
        "H-9,2024-03-05 09:15,web,,fraud,,,\n"
        "H-10,2024-03-05 09:15,web,0812341213\n"
    )
    read, parsed = _parse(tmp_path, body, settings, tables)
    assert parsed.complaints["complaint_id"].to_list() == ["H-1"]
    assert parsed.rejects.select("source_line", "reason").rows() == [
        (3, "duplicate_id"),
        (4, "bad_timestamp"),
        (5, "invalid_number"),
        (6, "missing_value"),
        (7, "bad_timestamp"),
        (8, "missing_value"),
        (9, "no_source"),
    ]
    assert read.rejects.select("source_line", "reason").rows() == [(10, "field_count")]
    details = dict(parsed.rejects.select("source_line", "detail").rows())
    assert details[4].startswith("column received_at:") and "'yesterday'" in details[4]
    assert details[7].startswith("column occurred_at:") and "'31/02/2024 10:00'" in details[7]
    assert details[5] == "column reported_number: '12' is not a valid number, short code or brandname"
    assert read.rows_read == 9 == parsed.complaints.height + parsed.rejects.height + read.rejects.height


def test_invalid_reporter_is_dropped_and_counted(tmp_path: Path, settings, tables) -> None:
    body = "H-1,2024-03-05 09:15,hotline,0812341213,fraud,ẩn danh,,\nH-2,2024-03-05 09:15,hotline,0812341213,fraud,02923899588,,\n"
    _, parsed = _parse(tmp_path, body, settings, tables)
    assert parsed.invalid_reporters == 1
    assert parsed.complaints.select("reporter_raw", "reporter_e164", "reporter_kind").rows() == [
        ("ẩn danh", None, None),
        ("02923899588", "+842923899588", "landline"),
    ]


def test_jsonl_complaints(tmp_path: Path, settings, tables) -> None:
    rows = [
        {"complaint_id": "W-1", "received_at": "2024-03-05T09:15:00+07:00", "channel": "web", "reported_number": "0812341213",
         "category": "Mạo danh", "description": "<b>x</b>"},
        {"complaint_id": "W-2", "received_at": "2024-03-05T09:15:00+07:00", "channel": "app", "reported_number": 812341213,
         "category": "spam_sms"},
    ]
    path = tmp_path / "w.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    read = read_records(path, COMPLAINT_REQUIRED, COMPLAINT_OPTIONAL)
    parsed = parse_complaints(read.records, tables, settings, "f" * 64)
    assert parsed.complaints.select("complaint_id", "reported_e164", "category", "kind", "content", "source_line").rows() == [
        ("W-1", "+84812341213", "impersonation", "call", "<b>x</b>", 1),
        ("W-2", "+84812341213", "spam_sms", "sms", None, 2),
    ]


def test_categories_config_refuses_a_synonym_given_twice(tmp_path: Path) -> None:
    path = tmp_path / "categories.toml"
    path.write_text(
        '[[category]]\nname = "fraud"\nsynonyms = ["Lừa đảo"]\n[[category]]\nname = "other"\nsynonyms = ["lua dao"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="given to both fraud and other"):
        validate_file(path, Categories)
    path.write_text('[[category]]\nname = "fraud"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="'other' is required"):
        validate_file(path, Categories)


@fuzz_settings(300)
@given(st.lists(st.text(max_size=30), min_size=1, max_size=20))
def test_polars_fold_matches_config_fold(values: list[str]) -> None:
    got = pl.DataFrame({"v": values}, schema={"v": pl.String}).select(fold_expr(pl.col("v")))["v"].to_list()
    assert got == [fold_label(v) for v in values]


_value = st.one_of(
    st.none(),
    st.text(max_size=25),
    st.sampled_from(["2024-03-05 09:15", "05/03/2024 09:15", "0812341213", "+84 812 341 213", "VCB", "Lừa đảo", "spam_sms", "H-1"]),
)


@fuzz_settings(150)
@given(st.lists(st.tuples(*[_value] * 8), max_size=30))
def test_any_records_are_accepted_or_rejected_never_lost(settings, tables, rows) -> None:
    columns = [*COMPLAINT_REQUIRED, *COMPLAINT_OPTIONAL]
    records = pl.DataFrame([list(r) for r in rows], schema={c: pl.String for c in columns}, orient="row").with_columns(
        source_file=pl.lit("c.csv"), source_line=pl.int_range(2, pl.len() + 2, dtype=pl.Int64)
    )
    parsed = parse_complaints(records, tables, settings, "f" * 64)
    lines = pl.concat([parsed.complaints["source_line"], parsed.rejects["source_line"]]).sort().to_list()
    assert lines == list(range(2, len(rows) + 2))
    assert parsed.complaints["complaint_id"].is_unique().all()
    assert parsed.complaints["category"].null_count() == 0
    assert parsed.rejects["detail"].null_count() == 0
