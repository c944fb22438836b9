"""Reader: encodings, CSV quoting and line numbers, JSONL, Parquet, gzip, and the row identity."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import re
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from transforms.readers import InputError, decode_bytes, read_records, sha256_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "intake"
REQ = ["received_at", "reporter", "message"]
OPT = ["report_id"]
FUZZ = int(os.environ.get("SUBFLAG_FUZZ_EXAMPLES", "0"))

# The four fixtures hold the same four records (one spans two lines) in the encodings Vietnamese
# office software writes; every one must read to the same text and the same line numbers.
EXPECTED_FIXTURE_ROWS = [
    ("2024-03-05 09:15:00", "0912345678", "V 0812341213 lừa đảo chuyển tiền", "R1", 2),
    ("05/03/2024 09:20", "0987654321", "S VIETCOMBANK Quý khách, tài khoản bị khóa\nbấm link", "R2", 3),
    ("2024-03-05T09:25:00+07:00", "0912345678", "DK DNC", "R3", 5),
    ("2024-03-05 09:30", "0912345678", "xin chào", "R4", 6),
]


def _rows(result) -> list[tuple]:
    frame = result.records.with_columns(pl.col("message").str.replace_all("\r\n", "\n"))
    return frame.select(*REQ, *OPT, "source_line").rows()


@pytest.mark.parametrize(
    ("name", "encoding", "check"),
    [
        ("reports_utf8_bom.csv", "utf-8-sig", lambda b: b.startswith(b"\xef\xbb\xbf") and b"\r\n" not in b),
        ("reports_crlf.csv", "utf-8", lambda b: b.count(b"\r\n") == b.count(b"\n") == 6 and not b.startswith(b"\xef")),
        ("reports_utf16.csv", "utf-16", lambda b: b.startswith(b"\xff\xfe") and b"\t\x00" in b),
        ("reports_cp1258.csv", "cp1258", lambda b: b"\xcc" in b or b"\xd2" in b),
    ],
)
def test_encoding_fixtures_read_to_the_same_records(name: str, encoding: str, check) -> None:
    path = FIXTURES / name
    data = path.read_bytes()
    assert check(data), f"fixture {name} is not what it claims to be"
    result = read_records(path, REQ, OPT)
    assert result.encoding == encoding
    assert result.rows_read == 4
    assert result.rejects.height == 0
    assert _rows(result) == EXPECTED_FIXTURE_ROWS
    assert all(unicodedata.is_normalized("NFC", m) for m in result.records["message"])
    assert result.records["source_file"].unique().to_list() == [str(path)]


def test_cp1258_fixture_is_not_utf8_and_can_be_refused() -> None:
    data = (FIXTURES / "reports_cp1258.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    with pytest.raises(InputError) as err:
        read_records(FIXTURES / "reports_cp1258.csv", REQ, OPT, legacy_encoding="refuse")
    assert "Windows-1258" in str(err.value) and "re-export it as UTF-8" in str(err.value)
    assert "reports_cp1258.csv" in str(err.value)


def test_utf16_without_bom_is_detected(tmp_path: Path) -> None:
    text = "received_at,reporter,message\n2024-03-05 09:15,0912345678,V 0812341213 lừa đảo\n"
    for enc in ("utf-16-le", "utf-16-be"):
        path = tmp_path / f"{enc}.csv"
        path.write_bytes(text.encode(enc))
        result = read_records(path, REQ, [])
        assert result.encoding == enc
        assert result.records["message"].to_list() == ["V 0812341213 lừa đảo"]


def test_damaged_utf8_rejects_only_the_damaged_record(tmp_path: Path) -> None:
    good = "2024-03-05 09:15,0912345678,V 0812341213 lừa đảo chuyển tiền gửi 5656\n".encode()
    bad = b"2024-03-05 09:16,0912345678,V 0812341213 l\xff\xfe a\n"
    path = tmp_path / "damaged.csv"
    path.write_bytes(b"received_at,reporter,message\n" + good * 3 + bad + good)
    result = read_records(path, REQ, [])
    assert result.rows_read == 5
    assert result.records["source_line"].to_list() == [2, 3, 4, 6]
    assert result.rejects.select("source_line", "reason").rows() == [(5, "encoding")]
    assert "\ufffd" in result.rejects["raw"][0]
    assert result.notes and "invalid bytes" in result.notes[0]


def test_undecodable_bytes_are_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(b"received_at,reporter,message\n\x81\x8d\x8f\x90\x9d\n")
    with pytest.raises(InputError) as err:
        read_records(path, REQ, [])
    assert "neither UTF-8 nor Windows-1258" in str(err.value) and str(path) in str(err.value)


def test_quoted_newlines_commas_and_line_numbers(tmp_path: Path) -> None:
    text = (
        "received_at,reporter,message\r\n"
        '2024-03-05 09:15,0912345678,"V 0812341213 lừa đảo, chuyển tiền\r\ndòng 2\r\ndòng 3"\r\n'
        "2024-03-05 09:16,0912345678,V 0812341213 a\r\n"
        '2024-03-05 09:17,0912345678,"S VCB ""quoted"" x"\r\n'
        "\r\n"
        "2024-03-05 09:18,0912345678\r\n"
        "2024-03-05 09:19,0912345678,V 0812341213 b,extra\r\n"
        '2024-03-05 09:20,0912345678,"V 0812341213\nc"\r\n'
        "2024-03-05 09:21,0912345678,V 0812341213 d"
    )
    path = tmp_path / "q.csv"
    path.write_text(text, encoding="utf-8", newline="")
    result = read_records(path, REQ, OPT)
    assert result.rows_read == 8
    assert result.records.select("message", "source_line").rows() == [
        ("V 0812341213 lừa đảo, chuyển tiền\ndòng 2\ndòng 3", 2),
        ("V 0812341213 a", 5),
        ('S VCB "quoted" x', 6),
        ("V 0812341213\nc", 10),
        ("V 0812341213 d", 12),
    ]
    assert result.rejects.select("source_line", "reason", "detail").rows() == [
        (7, "blank_line", "blank line (no fields)"),
        (8, "field_count", "expected 3 fields as in the header, found 2"),
        (9, "field_count", "expected 3 fields as in the header, found 4"),
    ]
    assert result.rejects["raw"].to_list()[1:] == ["2024-03-05 09:18,0912345678", "2024-03-05 09:19,0912345678,V 0812341213 b,extra"]
    assert result.records["report_id"].null_count() == 5


def test_missing_required_column_names_file_and_column(tmp_path: Path) -> None:
    path = tmp_path / "m.csv"
    path.write_text("received_at,sender,message\n2024-03-05 09:15,0912345678,x\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_records(path, REQ, OPT)
    assert err.value.column == "reporter"
    assert str(path) in str(err.value) and "'reporter'" in str(err.value) and "sender" in str(err.value)


def test_rename_header_case_and_delimiter(tmp_path: Path) -> None:
    path = tmp_path / "vendor.csv"
    path.write_text(" Thoi_Gian ;SENDER;Noi dung;Extra\n2024-03-05 09:15;0912345678;V 0812341213 x;zzz\n", encoding="utf-8")
    result = read_records(path, REQ, OPT, rename={"thoi_gian": "received_at", "sender": "reporter", "Noi dung": "message"})
    assert result.records.columns == [*REQ, *OPT, "source_file", "source_line"]
    assert result.records.select(*REQ).rows() == [("2024-03-05 09:15", "0912345678", "V 0812341213 x")]


def test_empty_values_become_null_and_header_only_file(tmp_path: Path) -> None:
    path = tmp_path / "h.csv"
    path.write_text("received_at,reporter,message,report_id\n", encoding="utf-8")
    result = read_records(path, REQ, OPT)
    assert (result.rows_read, result.records.height, result.rejects.height) == (0, 0, 0)
    assert result.records.schema["source_line"] == pl.Int64
    path.write_text("received_at,reporter,message,report_id\n2024-03-05,,,\n", encoding="utf-8")
    assert read_records(path, REQ, OPT).records.row(0)[:4] == ("2024-03-05", None, None, None)


def test_empty_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_records(path, REQ, OPT)


def test_gzip_csv(tmp_path: Path) -> None:
    path = tmp_path / "r.csv.gz"
    path.write_bytes(gzip.compress("received_at,reporter,message\n2024-03-05 09:15,0912345678,V 0812341213 x\n".encode()))
    result = read_records(path, REQ, OPT)
    assert result.records.select(*REQ, "source_line").rows() == [("2024-03-05 09:15", "0912345678", "V 0812341213 x", 2)]
    broken = tmp_path / "b.csv.gz"
    broken.write_bytes(b"not gzip at all")
    with pytest.raises(InputError, match="cannot read"):
        read_records(broken, REQ, OPT)


def test_jsonl_lines_values_and_rejects(tmp_path: Path) -> None:
    lines = [
        '{"received_at": "2024-03-05 09:15", "reporter": 84912345678, "message": "V 0812341213 \\"x\\"", "report_id": "R1"}',
        "",
        "{not json",
        "[1, 2]",
        '{"received_at": "2024-03-05 09:16", "reporter": "0912345678", "message": null}',
        '{"received_at": "2024-03-05 09:17", "reporter": "0912345678", "message": "S VCB y"} trailing',
    ]
    path = tmp_path / "r.jsonl"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = read_records(path, REQ, OPT)
    assert result.rows_read == 6
    assert result.records.select(*REQ, *OPT, "source_line").rows() == [
        ("2024-03-05 09:15", "84912345678", 'V 0812341213 "x"', "R1", 1),
        ("2024-03-05 09:16", "0912345678", None, None, 5),
    ]
    assert result.rejects.select("source_line", "reason").rows() == [(2, "blank_line"), (3, "bad_json"), (4, "bad_json"), (6, "bad_json")]
    assert result.rejects["raw"][1] == "{not json"


def test_jsonl_without_a_required_key_anywhere(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"received_at": "x", "reporter": "y"}\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_records(path, REQ, OPT)
    assert err.value.column == "message"


def test_jsonl_rename_uses_vendor_keys(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"ts": "2024-03-05 09:15", "msisdn": "0912345678", "text it\'s": "V 0812341213"}\n', encoding="utf-8")
    result = read_records(path, REQ, [], rename={"ts": "received_at", "msisdn": "reporter", "text it's": "message"})
    assert result.records.select(*REQ).rows() == [("2024-03-05 09:15", "0912345678", "V 0812341213")]


def test_parquet_columns_become_text(tmp_path: Path) -> None:
    from datetime import datetime, timezone

    path = tmp_path / "r.parquet"
    pl.DataFrame(
        {
            "Received_At": [datetime(2024, 3, 5, 2, 15, tzinfo=timezone.utc)],
            "reporter": [84912345678],
            "message": ["V 0812341213 x"],
        }
    ).write_parquet(path)
    result = read_records(path, REQ, OPT)
    assert result.records.select(*REQ, *OPT, "source_line").rows() == [
        ("2024-03-05 02:15:00.000000+00:00", "84912345678", "V 0812341213 x", None, 1)
    ]
    assert result.rows_read == 1 and result.encoding == "parquet"


def test_unsupported_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unsupported file type"):
        read_records(tmp_path / "x.xlsx", REQ, OPT)
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"PAR1 nope")
    with pytest.raises(InputError, match="Parquet"):
        read_records(bad, REQ, OPT)


def test_sha256_file(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    data = os.urandom(3 << 20)
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_decode_bytes_prefers_utf8_and_reports_what_it_found() -> None:
    assert decode_bytes("Lừa đảo".encode(), "f") == ("Lừa đảo", "utf-8", False)
    assert decode_bytes(b"\xef\xbb\xbfabc", "f") == ("abc", "utf-8-sig", False)
    text, enc, damaged = decode_bytes("Lừa đảo".encode("utf-16"), "f")
    assert (text, enc, damaged) == ("Lừa đảo", "utf-16", False)


_field = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
_BREAK = re.compile(r"\r\n|\r|\n")


@hsettings(max_examples=FUZZ or 150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_field, min_size=0, max_size=5), max_size=30), crlf=st.booleans(), bom=st.booleans())
def test_any_csv_reads_every_row_once_with_its_line(tmp_path: Path, rows: list[list[str]], crlf: bool, bom: bool) -> None:
    """Any RFC 4180 file: one record per written row, starting at its physical line (CR, LF, CRLF break lines)."""
    buf = io.StringIO()
    # QUOTE_ALL: Python's minimal quoting leaves a lone CR unquoted, which every CSV reader splits.
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_ALL)
    writer.writerow(REQ)
    starts = []
    line = 2
    for r in rows:
        starts.append(line)
        before = buf.tell()
        writer.writerow(r)
        line += len(_BREAK.findall(buf.getvalue()[before:]))
    path = tmp_path / "g.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode())
    result = read_records(path, REQ, [])
    assert result.rows_read == len(rows)
    assert result.records.height + result.rejects.height == len(rows)
    got = pl.concat([result.records["source_line"], result.rejects["source_line"]]).sort().to_list()
    assert got == starts
    expected_good = [([_BREAK.sub("\n", f) for f in r], s) for r, s in zip(rows, starts) if len(r) == 3]
    kept = result.records.select(pl.concat_list(REQ).list.eval(pl.element().fill_null("")), "source_line").rows()
    assert kept == expected_good
