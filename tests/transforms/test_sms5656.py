"""5656 parser: every form people type, hostile content, reject reasons, ids, and the row identity."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, strategies as st

from tests.fuzzing import fuzz_settings
from transforms.numbers import NumberingTables, output_schema
from transforms.readers import REJECT_REASONS, read_records
from transforms.sms5656 import REPORT_OPTIONAL, REPORT_REQUIRED, parse_5656

SHA = "ab" * 32
NFD_TEXT = unicodedata.normalize("NFD", "Lừa đảo chuyển tiền")
LONG = "V 0812341213 " + "lừa đảo " * 250  # 2 013 characters


def call(raw, national, kind, category, content):
    return ("call", raw, national, kind, category, content)


def sms(raw, national, kind, category, content):
    return ("sms", raw, national, kind, category, content)


def dnc(action, detail=None):
    return ("dnc", action, detail)


def reject(reason):
    return ("reject", reason)


M = "0812341213"
CASES: list[tuple[str, tuple]] = [
    # the official forms
    ("V [0812341213][Giả danh công an yêu cầu chuyển tiền]", call(M, M, "mobile", "impersonation", "Giả danh công an yêu cầu chuyển tiền")),
    ("V (0812341213)(lừa đảo)", call(M, M, "mobile", "fraud", "lừa đảo")),
    ("S [0812341213] [trúng thưởng xe máy]", sms(M, M, "mobile", "fraud", "trúng thưởng xe máy")),
    ("S(0812341213)(tin nhắn rác)", sms(M, M, "mobile", "spam_sms", "tin nhắn rác")),
    ("V [0812 341 213][gọi mời vay]", call("0812 341 213", M, "mobile", "spam_call", "gọi mời vay")),
    # loose forms
    ("V 0812341213 lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V(0812341213) lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("v0812341213 lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("s 0812341213 tin nhắn lừa đảo", sms(M, M, "mobile", "fraud", "tin nhắn lừa đảo")),
    ("V:0812341213:lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V-0812341213 - lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V,0812341213,lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V ( 0812341213 ) lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V 0812341213lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V\u00a00812341213\u00a0lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V  0812.341.213   mời vay tiền gửi 5656", call("0812.341.213", M, "mobile", "spam_call", "mời vay tiền")),
    ("v 0812 341 213 gọi quấy rối gui 5656", call("0812 341 213", M, "mobile", "harassment", "gọi quấy rối")),
    ("V 0812-341-213 chửi bới", call("0812-341-213", M, "mobile", "harassment", "chửi bới")),
    ("V 0 812 341 213 lua dao", call("0 812 341 213", M, "mobile", "fraud", "lua dao")),
    ("V 0912 345 678 5 cuoc goi", call("0912 345 678", "0912345678", "mobile", "other", "5 cuoc goi")),
    ("V 0812341213", call(M, M, "mobile", "other", None)),
    ("V 0812341213 [lừa đảo]", call(M, M, "mobile", "fraud", "lừa đảo")),
    ("S VIETCOMBANK: (tài khoản bị khóa)", sms("VIETCOMBANK", "VIETCOMBANK", "brandname", "other", "tài khoản bị khóa")),
    ("V 0812341213 gui 5656", call(M, M, "mobile", "other", None)),
    ("V 0812341213 lừa đảo gửi 5656", call(M, M, "mobile", "fraud", "lừa đảo")),
    ("V 0812341213 lừa đảo gửi đến 5656.", call(M, M, "mobile", "fraud", "lừa đảo")),
    ("V [0812341213 lừa đảo]", call(M, M, "mobile", "fraud", "lừa đảo")),
    ("V [0812341213 lua dao", call(M, M, "mobile", "fraud", "lua dao")),
    ("V (0812341213", call(M, M, "mobile", "other", None)),
    ("V 0812341213\nlừa đảo\nnhiều dòng", call(M, M, "mobile", "fraud", "lừa đảo\nnhiều dòng")),
    ("V 0812341213 \r\nlua\r\ndao", call(M, M, "mobile", "fraud", "lua\ndao")),
    ("V 0812341213, 0987654321 lừa đảo", call(M, M, "mobile", "fraud", "0987654321 lừa đảo")),
    ("V 0812341213 +84912345678 goi lai", call(M, M, "mobile", "other", "+84912345678 goi lai")),
    ("V 0812341213 ngày 05/03/2024 lúc 9h15", call(M, M, "mobile", "other", "ngày 05/03/2024 lúc 9h15")),
    # international prefixes, legacy numbers, widths
    ("V +84 812 341 213 lừa đảo", call("+84 812 341 213", M, "mobile", "fraud", "lừa đảo")),
    ("V +84-812-341-213 lua dao", call("+84-812-341-213", M, "mobile", "fraud", "lua dao")),
    ("V 84812341213 lua dao", call("84812341213", M, "mobile", "fraud", "lua dao")),
    ("V 0084812341213 lua dao", call("0084812341213", M, "mobile", "fraud", "lua dao")),
    ("V 812341213 lua dao", call("812341213", M, "mobile", "fraud", "lua dao")),
    ("V 81 234 1213 lua dao", call("81 234 1213", M, "mobile", "fraud", "lua dao")),
    ("V 01623456789 goi lua dao", call("01623456789", "0323456789", "mobile", "fraud", "goi lua dao")),
    ("V 0162 345 6789 goi lua dao", call("0162 345 6789", "0323456789", "mobile", "fraud", "goi lua dao")),
    ("V ０８１２３４１２１３ lừa đảo", call("０８１２３４１２１３", M, "mobile", "fraud", "lừa đảo")),
    ("V 08１２３４１２１３ mixed width", call("08１２３４１２１３", M, "mobile", "other", "mixed width")),
    ("V 081234\u200b1213 zero width in number", call(M, M, "mobile", "other", "zero width in number")),
    # landlines, service numbers, short codes, protected numbers
    ("V 028 3823 4567 quang cao", call("028 3823 4567", "02838234567", "landline", "spam_call", "quang cao")),
    ("V (028) 3823 4567 quang cao", call("(028) 3823 4567", "02838234567", "landline", "spam_call", "quang cao")),
    ("V (028)38234567 quang cao", call("(028)38234567", "02838234567", "landline", "spam_call", "quang cao")),
    ("V (0236)  2047661 gia danh", call("(0236)  2047661", "02362047661", "landline", "impersonation", "gia danh")),
    ("v (０２２２) ０００００００", call("(０２２２) ０００００００", "02220000000", "landline", "other", None)),
    ("V 02923899588 gia danh so TT", call("02923899588", "02923899588", "landline", "impersonation", "gia danh so TT")),
    ("V +84 292 3899 588 gia danh", call("+84 292 3899 588", "02923899588", "landline", "impersonation", "gia danh")),
    ("V 0292.389.9588 gia danh", call("0292.389.9588", "02923899588", "landline", "impersonation", "gia danh")),
    ("V 0692348560 gia danh cong an", call("0692348560", "0692348560", "landline", "impersonation", "gia danh cong an")),
    ("V 1900 1234 quang cao", call("1900 1234", "19001234", "premium", "spam_call", "quang cao")),
    ("S 1900 123 456 quang cao", sms("1900 123 456", "1900123456", "premium", "spam_sms", "quang cao")),
    ("S 18001091 tu van", sms("18001091", "18001091", "toll_free", "other", "tu van")),
    ("S 9029 tin nhan rac", sms("9029", "9029", "short_code", "spam_sms", "tin nhan rac")),
    ("V 5656 test", call("5656", "5656", "short_code", "other", "test")),
    ("V 113 gia danh cong an", call("113", "113", "short_code", "impersonation", "gia danh cong an")),
    ("V12345", call("12345", "12345", "short_code", "other", None)),
    ("V +1 212 555 0100 scam", call("+1 212 555 0100", None, "international", "fraud", "scam")),
    # brandnames
    ("S VIETCOMBANK Quy khach vui long truy cap link", sms("VIETCOMBANK", "VIETCOMBANK", "brandname", "fraud", "Quy khach vui long truy cap link")),
    ("S [Vietcombank] tai khoan bi khoa", sms("Vietcombank", "VIETCOMBANK", "brandname", "other", "tai khoan bi khoa")),
    ("S [FE CREDIT] vay tiền", sms("FE CREDIT", "FE CREDIT", "brandname", "spam_sms", "vay tiền")),
    ("S FE-CREDIT vay tien nhanh", sms("FE-CREDIT", "FE-CREDIT", "brandname", "spam_sms", "vay tien nhanh")),
    ("S VIETTEL-KM khuyen mai", sms("VIETTEL-KM", "VIETTEL-KM", "brandname", "spam_sms", "khuyen mai")),
    ("S VCB", sms("VCB", "VCB", "brandname", "other", None)),
    ("Ｓ\u3000ＶＩＥＴＣＯＭＢＡＮＫ\u3000khoá tài khoản", sms("ＶＩＥＴＣＯＭＢＡＮＫ", "VIETCOMBANK", "brandname", "fraud", "khoá tài khoản")),
    # diacritics, categories
    ("V 0812341213 " + NFD_TEXT, call(M, M, "mobile", "fraud", "Lừa đảo chuyển tiền")),
    ("S 0812341213 OTP cua ban la 123456, khong chia se", sms(M, M, "mobile", "fraud", "OTP cua ban la 123456, khong chia se")),
    ("V 0812341213 goi mao danh ngan hang", call(M, M, "mobile", "impersonation", "goi mao danh ngan hang")),
    ("V 0812341213 de doa giet", call(M, M, "mobile", "harassment", "de doa giet")),
    ("S 0812341213 khuyến mãi 50%", sms(M, M, "mobile", "spam_sms", "khuyến mãi 50%")),
    ("V 0812341213 bất động sản", call(M, M, "mobile", "spam_call", "bất động sản")),
    ("V 0812341213 chình phủ", call(M, M, "mobile", "other", "chình phủ")),
    # hostile content is kept as data
    ('V 0812341213 =HYPERLINK("http://evil.example/x","bấm vào")', call(M, M, "mobile", "other", '=HYPERLINK("http://evil.example/x","bấm vào")')),
    ("V 0812341213 <script>alert('x')</script>", call(M, M, "mobile", "other", "<script>alert('x')</script>")),
    ("V 0812341213 '; DROP TABLE complaints; --", call(M, M, "mobile", "other", "'; DROP TABLE complaints; --")),
    ("V 0812341213 @SUM(1+1)*cmd|' /C calc'!A0", call(M, M, "mobile", "other", "@SUM(1+1)*cmd|' /C calc'!A0")),
    ("V 0812341213 😡😡 lừa đảo 🙏", call(M, M, "mobile", "fraud", "😡😡 lừa đảo 🙏")),
    ("V 0812341213 ca\tb", call(M, M, "mobile", "other", "ca\tb")),
    ("V 0812341213 a\x07b\x1bc", call(M, M, "mobile", "other", "abc")),
    ("V 0812341213 abc\u202edef", call(M, M, "mobile", "other", "abcdef")),
    ("V 0812341213 abc\u200bdef", call(M, M, "mobile", "other", "abcdef")),
    ("V 0812341213 \x00null", call(M, M, "mobile", "other", "null")),
    (LONG, call(M, M, "mobile", "fraud", ("lừa đảo " * 250).strip()[:1000] + "…")),
    # Do-Not-Call
    ("DK DNC", dnc("register")),
    ("HUY DNC", dnc("cancel")),
    ("dk dnc 10,11", dnc("register", "10,11")),
    ("Đăng ký DNC", dnc("register")),
    ("HỦY DNC", dnc("cancel")),
    ("huỷ dnc", dnc("cancel")),
    ("DK  DNC QC", dnc("register", "QC")),
    ("DKDNC", dnc("register")),
    ("DK DNC gui 5656", dnc("register")),
    # rejects
    ("", reject("empty")),
    ("   \t  ", reject("empty")),
    ("\x00\x01", reject("empty")),
    ("Vâng", reject("unknown_command")),
    ("0912345678 lua dao", reject("unknown_command")),
    ("gui 5656", reject("unknown_command")),
    ("Scam 0812341213", reject("unknown_command")),
    ("TC DNC", reject("unknown_command")),
    ("DNC", reject("unknown_command")),
    ("Kính gửi: V 0812341213 lừa đảo", reject("unknown_command")),
    ("V", reject("no_source")),
    ("V lua dao", reject("no_source")),
    ("S lua dao qua", reject("no_source")),
    ("S Vietcombank tb", reject("no_source")),
    ("V [] lua dao", reject("no_source")),
    ("V () lua dao", reject("no_source")),
    ("V [lua dao]", reject("no_source")),
    ("V [VCB] lua dao", reject("no_source")),
    ("V VIETCOMBANK goi lua dao", reject("no_source")),
    ("S ABCDEFGHIJKL tin rac", reject("no_source")),
    ("V ٠٨١٢٣٤١٢١٣ arabic digits", reject("no_source")),
    ("S LUA DAO CHUYEN TIEN", reject("ambiguous_source")),
    ("V 0912 34567 lua dao", reject("invalid_number")),
    ("V 09123456789 lua dao", reject("invalid_number")),
    ("V 1234567 lua dao", reject("invalid_number")),
    ("V 012 345 lua dao", reject("invalid_number")),
    ("V 0012345 lua dao", reject("invalid_number")),
]


def _records(messages: list[str], reporters: list[str] | None = None, received: list[str] | None = None, ids=None) -> pl.DataFrame:
    n = len(messages)
    data = {
        "received_at": received or ["2024-03-05 09:15:00"] * n,
        "reporter": reporters or ["0912345678"] * n,
        "message": messages,
        "report_id": ids or [None] * n,
        "source_file": ["inbox/reports_5656/x.csv"] * n,
        "source_line": list(range(2, n + 2)),
    }
    return pl.DataFrame(data, schema={k: pl.Int64 if k == "source_line" else pl.String for k in data})


@pytest.fixture(scope="module")
def tables(settings) -> NumberingTables:
    return NumberingTables.from_settings(settings)


@pytest.fixture(scope="module")
def table_outcomes(settings, tables) -> dict[int, tuple]:
    parsed = parse_5656(_records([m for m, _ in CASES]), tables, settings, SHA)
    out: dict[int, tuple] = {}
    for r in parsed.complaints.iter_rows(named=True):
        out[r["source_line"] - 2] = (
            r["kind"], r["reported_raw"], r["reported_national"], r["reported_kind"], r["category"], r["content"]
        )
    for r in parsed.dnc.iter_rows(named=True):
        out[r["source_line"] - 2] = ("dnc", r["action"], r["detail"])
    for r in parsed.rejects.iter_rows(named=True):
        out[r["source_line"] - 2] = ("reject", r["reason"])
    assert parsed.complaints.height + parsed.dnc.height + parsed.rejects.height == len(CASES)
    return out


def test_the_table_is_big_enough() -> None:
    assert len(CASES) >= 80
    assert len({m for m, _ in CASES}) == len(CASES), "duplicate messages in the table"
    assert {e[1] for _, e in CASES if e[0] == "reject"} <= set(REJECT_REASONS)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[repr(m[:40]) for m, _ in CASES])
def test_message_parses_exactly(table_outcomes: dict[int, tuple], index: int) -> None:
    message, expected = CASES[index]
    assert table_outcomes[index] == expected, message


def test_complaint_frame_layout(settings, tables) -> None:
    parsed = parse_5656(_records(["V 0812341213 lua dao"], reporters=["+84 912 345 678"]), tables, settings, SHA)
    c = parsed.complaints
    expected_head = ["complaint_id", "channel", "received_at", "occurred_at", "reporter_raw"]
    assert c.columns[:5] == expected_head
    assert c.columns[-5:] == ["kind", "category", "content", "source_file", "source_line"]
    for name in [*output_schema("reporter_"), *output_schema("reported_"), "reported_raw"]:
        assert name in c.columns
    assert c.schema["received_at"] == pl.Datetime("us", "UTC")
    assert c.schema["occurred_at"] == pl.Datetime("us", "UTC")
    assert c.schema["source_line"] == pl.Int64
    row = c.row(0, named=True)
    assert row["channel"] == "sms5656"
    assert row["reporter_e164"] == "+84912345678"
    assert row["reporter_e164_int"] == 84912345678
    assert row["reporter_carrier"] == "vinaphone"
    assert row["reported_e164"] == "+84812341213"
    assert row["reported_carrier"] == "vinaphone"
    assert row["occurred_at"] is None
    assert str(row["received_at"]) == "2024-03-05 02:15:00+00:00"
    assert parsed.dnc.columns == ["received_at", "reporter_raw", "reporter_e164", "action", "detail", "source_file", "source_line"]
    assert parsed.rejects.columns == ["source_file", "source_line", "raw", "reason", "detail"]


def test_protected_source_is_flagged_not_dropped(settings, tables) -> None:
    parsed = parse_5656(_records(["V 0692348560 gia danh cong an", "V 5656 x"]), tables, settings, SHA)
    assert parsed.complaints["reported_protected"].to_list() == [True, True]


def test_complaint_id_is_report_id_or_derived_from_the_message(settings, tables) -> None:
    recs = _records(["V 0812341213 a", "V 0812341213 b", "DK DNC"], ids=[" R-9 ", None, None])
    parsed = parse_5656(recs, tables, settings, SHA)
    row = recs.row(1, named=True)
    key = "\x1f".join([row["received_at"], row["reporter"], row["message"]])
    expected = "5656-" + hashlib.sha256(key.encode()).hexdigest()[:12]
    assert parsed.complaints["complaint_id"].to_list() == ["R-9", expected]
    # another file (another hash, another line) delivering the same message gives the same id
    again = parse_5656(recs.with_columns(pl.col("source_line") + 7), tables, settings, "f" * 64)
    assert again.complaints["complaint_id"].to_list() == ["R-9", expected]


def test_repeated_report_id_is_rejected_after_the_first(settings, tables) -> None:
    recs = _records(["V 0812341213 a", "V 0812341213 b", "Vâng", "V 0812341213 c"], ids=["R1", "R1", "R2", "R2"])
    parsed = parse_5656(recs, tables, settings, SHA)
    assert parsed.complaints["complaint_id"].to_list() == ["R1", "R2"]
    assert parsed.complaints["content"].to_list() == ["a", "c"]
    assert parsed.rejects.select("source_line", "reason").rows() == [(3, "duplicate_id"), (4, "unknown_command")]
    assert "'R1' already appeared" in parsed.rejects["detail"][0]


def test_bad_timestamp_and_bad_reporter_come_first(settings, tables) -> None:
    recs = _records(
        ["V 0812341213 a", "V 0812341213 b", "DK DNC", "Vâng", "V 0812341213 c", "V 0812341213 d"],
        reporters=["0912345678", "abc", "", "0912345678", "0912345678", "5656"],
        received=["05/03/2024 9:15 AM", "2024-03-05 09:15", "2024-03-05 09:15", "", "2024-02-30 10:00", "2024-03-05"],
    )
    parsed = parse_5656(recs, tables, settings, SHA)
    assert parsed.rejects.select("source_line", "reason").rows() == [
        (2, "bad_timestamp"),
        (3, "bad_reporter"),
        (4, "bad_reporter"),
        (5, "bad_timestamp"),
        (6, "bad_timestamp"),
        (7, "bad_reporter"),
    ]
    details = parsed.rejects["detail"].to_list()
    assert details[0].startswith("column received_at: expected a date-time") and "'05/03/2024 9:15 AM'" in details[0]
    assert details[1] == "column reporter: expected the sender's mobile number; got 'abc' (brandname)"
    assert details[5] == "column reporter: expected the sender's mobile number; got '5656' (short_code)"


def test_reject_raw_is_the_record_as_csv(settings, tables) -> None:
    recs = _records(['Vâng, "ok"\nline2'])
    parsed = parse_5656(recs, tables, settings, SHA)
    assert parsed.rejects["raw"][0] == '2024-03-05 09:15:00,0912345678,"Vâng, ""ok""\nline2",'


def test_dnc_rows(settings, tables) -> None:
    recs = _records(["DK DNC", "HUY DNC gửi 5656"], received=["2024-03-05T01:00:00Z", "2024-03-05 09:00"])
    parsed = parse_5656(recs, tables, settings, SHA)
    rows = parsed.dnc.select("reporter_e164", "action", "detail", "source_line").rows()
    assert rows == [("+84912345678", "register", None, 2), ("+84912345678", "cancel", None, 3)]
    assert parsed.complaints.height == 0


def test_content_cap_comes_from_config(settings, tables) -> None:
    capped = settings.model_copy(
        update={"categories": settings.categories.model_copy(update={"content": settings.categories.content.model_copy(update={"max_chars": 100})})}
    )
    parsed = parse_5656(_records(["V 0812341213 " + "x" * 150]), tables, capped, SHA)
    assert parsed.complaints["content"][0] == "x" * 100 + "…"


def test_empty_input(settings, tables) -> None:
    parsed = parse_5656(_records([]), tables, settings, SHA)
    assert (parsed.complaints.height, parsed.dnc.height, parsed.rejects.height) == (0, 0, 0)
    assert parsed.complaints.schema["received_at"] == pl.Datetime("us", "UTC")


# ------------------------------------------------------------------------------------------ properties

_pieces = st.sampled_from(
    ["V", "S", "v", "s", "DK", "HUY", "DNC", " ", "  ", "(", ")", "[", "]", "0", "08", "0812341213", "+84", "84",
     "0084", "9", "1900", ".", "-", ",", ":", "gửi", "5656", "lừa đảo", "VCB", "Ｖ", "０", "\n", "\r\n", "\t", "\x00",
     "\u202e", "😡", "=", "\"", "'", "ư\u0300", "\ufffd"]
)
_messages = st.one_of(st.text(max_size=80), st.lists(_pieces, max_size=12).map("".join))


@fuzz_settings(150)
@given(st.lists(_messages, min_size=1, max_size=40))
def test_parser_never_raises_and_accounts_for_every_row(settings, tables, messages: list[str]) -> None:
    parsed = parse_5656(_records(messages), tables, settings, SHA)
    lines = pl.concat([parsed.complaints["source_line"], parsed.dnc["source_line"], parsed.rejects["source_line"]])
    assert lines.sort().to_list() == list(range(2, len(messages) + 2))
    assert parsed.rejects["reason"].null_count() == 0
    assert parsed.complaints["reported_kind"].cast(pl.String).is_in(["invalid"]).sum() == 0
    assert parsed.complaints["category"].is_in(["impersonation", "fraud", "spam_call", "spam_sms", "harassment", "other"]).all()


_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@fuzz_settings(60)
@given(
    rows=st.lists(st.lists(st.one_of(_messages, _cell), min_size=0, max_size=5), max_size=25),
    crlf=st.booleans(),
)
def test_generated_file_read_equals_accepted_plus_dnc_plus_rejected(settings, tables, tmp_path: Path, rows, crlf: bool) -> None:
    import csv
    import io

    buf = io.StringIO()
    # QUOTE_ALL: Python's minimal quoting leaves a lone CR unquoted, which any CSV reader splits.
    writer = csv.writer(buf, lineterminator="\r\n" if crlf else "\n", quoting=csv.QUOTE_ALL)
    writer.writerow(["received_at", "reporter", "message"])
    for r in rows:
        writer.writerow(r if len(r) != 3 else ["2024-03-05 09:15", "0912345678", r[2]])
    path = tmp_path / "gen.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    read = read_records(path, REPORT_REQUIRED, REPORT_OPTIONAL)
    parsed = parse_5656(read.records, tables, settings, SHA)
    accounted = read.rejects.height + parsed.complaints.height + parsed.dnc.height + parsed.rejects.height
    assert read.rows_read == len(rows)
    assert accounted == read.rows_read
