import io
import time
import zipfile
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import docx
import pytest

from tests.transforms.test_packaging import build, keys, make_request, members  # noqa: F401 - fixture
from transforms.cover_letter import (
    SUBJECT,
    AttachedFile,
    LetterFacts,
    compose_letter,
    render_docx,
    render_text,
    vietnamese_date,
)

ICT = timezone(timedelta(hours=7))
WHEN = datetime(2024, 3, 5, 23, 59, 58, tzinfo=ICT)


def facts(**overrides: object) -> LetterFacts:
    base: dict = {
        "request_id": "432/STTTT-TTra",
        "authority": "Sở Thông tin và Truyền thông TP. Cần Thơ",
        "received_at": datetime(2024, 3, 5, 9, 0, tzinfo=ICT),
        "legal_basis": "Nghị định 49/2017/NĐ-CP",
        "requested_action": "information",
        "numbers": ["0321234567", "0912345678"],
        "period_from": date(2024, 2, 1),
        "period_to": date(2024, 3, 5),
        "carrier_name": "Tổng công ty Viễn thông MobiFone",
        "carrier_short_name": "MobiFone",
        "files": [AttachedFile("complaints.csv", 3), AttachedFile("manifest.json")],
        "numbers_not_found": [],
        "numbers_elsewhere": {},
        "generated_at": WHEN,
        "key_fingerprint": "ab" * 32,
    }
    base.update(overrides)
    return LetterFacts(**base)


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("d", "expected"),
    [
        (date(2024, 3, 5), "ngày 05 tháng 3 năm 2024"),
        (date(2024, 2, 15), "ngày 15 tháng 02 năm 2024"),
        (date(2024, 1, 9), "ngày 09 tháng 01 năm 2024"),
        (date(2024, 12, 31), "ngày 31 tháng 12 năm 2024"),
    ],
)
def test_vietnamese_date_follows_the_administrative_rule(d: date, expected: str):
    assert vietnamese_date(d) == expected


def test_text_letter_cites_request_authority_basis_and_files():
    text = render_text(compose_letter(facts()))
    lines = text.splitlines()
    assert lines[:7] == [
        "TỔNG CÔNG TY VIỄN THÔNG MOBIFONE",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        "Số: ……/MobiFone-TTTB",
        "V/v cung cấp thông tin thuê bao",
        "Ngày 05 tháng 3 năm 2024",
    ]
    assert "Kính gửi: Sở Thông tin và Truyền thông TP. Cần Thơ" in lines
    assert "Căn cứ Nghị định 49/2017/NĐ-CP;" in lines
    assert (
        "Căn cứ văn bản số 432/STTTT-TTra ngày 05/03/2024 của Sở Thông tin và Truyền thông TP. Cần Thơ "
        "về việc đề nghị cung cấp thông tin thuê bao," in lines
    )
    assert "2. Khoảng thời gian: từ ngày 01/02/2024 đến ngày 05/03/2024." in lines
    assert "    - complaints.csv: Các phản ánh, tố giác liên quan đến các số thuê bao được yêu cầu — 3 dòng;" in lines
    assert "    - manifest.json: Bản kê các tệp kèm mã băm SHA-256 và số dòng." in lines
    assert "Trân trọng./." in lines
    assert "ab" * 32 in text


def test_missing_legal_basis_defaults_to_decree_49_and_place_is_used():
    text = render_text(compose_letter(facts(legal_basis="", place="Cần Thơ")))
    assert "Căn cứ Nghị định 49/2017/NĐ-CP;" in text.splitlines()
    assert "Cần Thơ, ngày 05 tháng 3 năm 2024" in text.splitlines()


def test_received_at_in_utc_is_dated_in_the_carrier_zone():
    text = render_text(compose_letter(facts(received_at=datetime(2024, 3, 4, 18, 30, tzinfo=UTC))))
    assert "Căn cứ văn bản số 432/STTTT-TTra ngày 05/03/2024 của" in text


def test_numbers_elsewhere_not_found_and_suspend_are_stated():
    letter = compose_letter(
        facts(
            numbers_elsewhere={"+84912345678": "VinaPhone"},
            numbers_not_found=["+84999000111"],
            requested_action="suspend",
        )
    )
    items = letter.items
    assert items[-3] == (
        "4. Các số thuê bao hiện không thuộc mạng MobiFone: +84912345678 (hiện thuộc VinaPhone). "
        "Đề nghị Quý cơ quan liên hệ doanh nghiệp tương ứng để được cung cấp thông tin."
    )
    assert items[-2].startswith("5. Các số không tìm thấy") and items[-2].endswith(": +84999000111.")
    assert items[-1].startswith("6. Đối với đề nghị ngừng cung cấp dịch vụ")


def test_forged_line_breaks_and_control_characters_are_flattened():
    letter = compose_letter(facts(request_id="432\r\nKính gửi: ai đó\x00", authority="Sở\x0bTT&TT <b>"))
    text = render_text(letter)
    assert "Căn cứ văn bản số 432 Kính gửi: ai đó ngày 05/03/2024 của Sở TT&TT <b> về việc" in text
    assert "Kính gửi: Sở TT&TT <b>" in docx_text(render_docx(letter, when=WHEN))


def test_docx_opens_and_holds_the_letter():
    data = render_docx(compose_letter(facts()), when=WHEN)
    text = docx_text(data)
    for needle in [
        "432/STTTT-TTra",
        "Sở Thông tin và Truyền thông TP. Cần Thơ",
        SUBJECT,
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Nghị định 49/2017/NĐ-CP",
        "TỔNG CÔNG TY VIỄN THÔNG MOBIFONE",
        "Nơi nhận:",
    ]:
        assert needle in text, needle
    document = docx.Document(io.BytesIO(data))
    props = document.core_properties
    assert props.created == props.modified == datetime(2024, 3, 5, 16, 59, 58, tzinfo=UTC)
    assert props.author == "Tổng công ty Viễn thông MobiFone"
    assert props.revision == 1
    assert document.styles["Normal"].font.name == "Times New Roman"


def test_docx_bytes_do_not_depend_on_the_wall_clock(monkeypatch):
    letter = compose_letter(facts())
    a = render_docx(letter, when=WHEN)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3 * 365 * 86_400 + 3)
    b = render_docx(letter, when=WHEN)
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(2024, 3, 5, 23, 59, 58)}


def test_packaged_cover_letter_opens_and_names_request_and_authority(tmp_path: Path, keys):  # noqa: F811
    request = make_request(request_id="439/STTTT-CNTT", authority="Công an thành phố Cần Thơ (PA05)")
    got = members(build(tmp_path / "out", keys[0], request))
    text = docx_text(got["cover_letter.docx"])
    assert "439/STTTT-CNTT" in text
    assert "Kính gửi: Công an thành phố Cần Thơ (PA05)" in text
    plain = got["cover_letter.txt"].decode("utf-8")
    assert "Căn cứ văn bản số 439/STTTT-CNTT ngày 05/03/2024 của Công an thành phố Cần Thơ (PA05)" in plain
    assert "+84912345678 (hiện thuộc VinaPhone)" in plain
